import { describe, expect, test } from '@jest/globals';
import { loadWorkflow } from '@d4/core';
import { readFileSync } from 'node:fs';
import { formatMappingList } from '../src/index.js';
import { d4, fixtures, conformanceGraphsModule } from './helpers.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

interface ListEntry {
  name: string;
  package: string;
  installed: boolean;
  description: string;
  stateful?: boolean;
  worker?: boolean;
  options: unknown[];
}

describe('d4 list', () => {
  test('shows every known mapping, simple as installed, and the package to install for a missing one', async () => {
    const r = await d4(['list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('simple          installed  [@d4/core]  runs stateful PEs');
    expect(lines[1]).toBe('  sequential, in-process; one instance per PE, depth-first with bounded memory (no server)');
    expect(lines).toContain('mpi             not installed (npm install @d4/mapping-mpi)  [@d4/mapping-mpi]');
    for (const name of ['multi', 'dyn_multi', 'dyn_auto_multi', 'redis', 'dyn_redis', 'dyn_auto_redis', 'hybrid_redis', 'zmq_multi', 'mpi']) {
      expect(lines.some((l) => l.startsWith(`${name} `))).toBe(true);
    }
  });

  test('--json: one entry per known mapping with its state and options', async () => {
    const r = await d4(['list', '--json']);
    expect(r.code).toBe(0);
    const entries = JSON.parse(r.stdout) as ListEntry[];
    expect(entries.map((e) => e.name)).toEqual(['simple', 'multi', 'dyn_multi', 'dyn_auto_multi', 'redis', 'dyn_redis', 'dyn_auto_redis', 'hybrid_redis', 'zmq_multi', 'mpi']);
    expect(entries[0]).toEqual({
      name: 'simple',
      package: '@d4/core',
      description: 'sequential, in-process; one instance per PE, depth-first with bounded memory (no server)',
      installed: true,
      stateful: true,
      worker: false,
      options: [
        {
          name: 'strict',
          flags: '--no-strict',
          description:
            'turn strict mode off: written values pass by reference, unchecked (faster for large objects); functions then pass and class instances keep their class, where every other mapping refuses them or delivers plain objects',
          type: 'boolean',
        },
      ],
    });
    expect(entries.find((e) => e.name === 'mpi')).toEqual({
      name: 'mpi',
      package: '@d4/mapping-mpi',
      description: 'fixed distribution over MPI (run under mpiexec)',
      installed: false,
      options: [],
    });
    expect(entries.find((e) => e.name === 'zmq_multi')).toMatchObject({ package: '@d4/mapping-zmq', installed: true, stateful: true, worker: true });
  });
  test("an installed mapping's options, and a package that fails to load, are shown on their lines", () => {
    const text = formatMappingList([
      {
        name: 'multi',
        package: '@d4/mapping-multi',
        description: 'fixed distribution on worker threads',
        installed: true,
        stateful: true,
        worker: true,
        options: [
          { name: 'numProcesses', flags: '-n, --num <n>', description: 'processes', type: 'number', default: 4, env: 'D4_NUM' },
          { name: 'fast', flags: '--fast', description: 'go fast', type: 'boolean' },
        ],
      },
      { name: 'redis', package: '@d4/mapping-redis', description: 'over Redis Streams', installed: false, options: [], error: 'boom' },
    ]);
    expect(text).toBe(
      [
        'multi  installed  [@d4/mapping-multi]  runs stateful PEs, d4 worker',
        '  fixed distribution on worker threads',
        '    -n, --num <n>  processes (number, default 4, env D4_NUM)',
        '    --fast         go fast (boolean)',
        'redis  cannot be loaded  [@d4/mapping-redis]',
        '  over Redis Streams',
        '  error: boom',
        '',
      ].join('\n'),
    );
  });
});

describe('d4 graph', () => {
  test('a readable listing of PEs, ports, groupings and connections', async () => {
    const r = await d4(['graph', 'squares.ts']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "2 PEs, 1 connection (export 'default' of squares.ts)",
        'PEs:',
        '  Numbers0  [root]',
        '    out: output',
        '  Square1  [sink]',
        '    in:  input (shuffle)',
        '    out: output',
        'Connections:',
        '  Numbers0.output -> Square1.input',
        '',
      ].join('\n'),
    );
  });

  test('groupings, numprocesses and composites are shown', async () => {
    const words = (await d4(['graph', conformanceGraphsModule, '-a', 'wordCount'])).stdout;
    expect(words).toContain('  WordCounter2  [sink]\n    in:  input (group-by [0])\n');
    const all = (await d4(['graph', conformanceGraphsModule, '-a', 'broadcast'])).stdout;
    expect(all).toContain('  SeeAll2  [sink, numprocesses 3]\n    in:  input (all)\n');
    const global = (await d4(['graph', conformanceGraphsModule, '-a', 'globalSum'])).stdout;
    expect(global).toContain('    in:  input (global)\n');
    const chain = (await d4(['graph', conformanceGraphsModule, '-a', 'chainComposite'])).stdout;
    expect(chain).toContain('  add1  [in composite IterativeChain0]\n');
    expect(chain).toContain('  isOdd3  [sink, in composite IterativeChain0]\n');
    expect(chain).toContain('Connections:\n  add1.output -> mult2.input\n  mult2.output -> isOdd3.input\n  CountingProducer0.output -> add1.input\n');
  });

  test('two instances of one composite are told apart by their ids, in the listing and in --dot', async () => {
    const text = (await d4(['graph', 'two-chains.ts'])).stdout;
    expect(text).toContain('  fn1  [in composite Chain0]\n');
    expect(text).toContain('  fn2  [sink, in composite Chain1]\n');
    const dot = (await d4(['graph', 'two-chains.ts', '--dot'])).stdout;
    const clusters = [...dot.matchAll(/subgraph cluster_\d+ \{\n\s+label="([^"]+)";\n\s+style=dashed;\n\s+"([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(clusters).toEqual([
      ['Chain0', 'fn1'],
      ['Chain1', 'fn2'],
    ]);
    const json = JSON.parse((await d4(['graph', 'two-chains.ts', '--json'])).stdout) as { pes: Array<{ id: string; composite?: string[] }> };
    expect(json.pes.map((pe) => [pe.id, pe.composite])).toEqual([
      ['Numbers0', undefined],
      ['fn1', ['Chain0']],
      ['fn2', ['Chain1']],
    ]);
  });

  test('--svg draws the graph with the built-in Graphviz: an <svg> document naming every PE and composite', async () => {
    for (const [workflow, attr] of [['two-chains.ts', undefined], [conformanceGraphsModule, 'wordCount']] as const) {
      const r = await d4(['graph', workflow, ...(attr ? ['-a', attr] : []), '--svg']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^<\?xml [^>]*\?>\n/);
      expect(r.stdout).toMatch(/<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(r.stdout.trimEnd().endsWith('</svg>')).toBe(true);
      const loaded = (await loadWorkflow(workflow, { exportName: attr, cwd: fixtures })).graph;
      const ids = loaded.pes().map((pe) => pe.id);
      expect(ids.length).toBeGreaterThan(1);
      for (const id of [...ids, ...loaded.composites().map((c) => c.id)]) expect([id, r.stdout.includes(`>${id}</text>`)]).toEqual([id, true]);
    }
    const both = await d4(['graph', 'squares.ts', '--svg', '--json']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("d4: option '--svg' cannot be used with option '--json' (D4_USAGE)\nsee 'd4 graph --help'\n");
  });

  test('--dot and --json print what the graph itself draws', async () => {
    const graph = (await loadWorkflow(conformanceGraphsModule, { exportName: 'splitMerge' })).graph;
    expect((await d4(['graph', conformanceGraphsModule, '-a', 'splitMerge', '--dot'])).stdout).toBe(graph.toDot());
    expect(JSON.parse((await d4(['graph', conformanceGraphsModule, '-a', 'splitMerge', '--json'])).stdout)).toEqual(graph.toJSON());
  });

  test('--args reaches a factory; --dot with --json and a module without a graph are refused (exit 2)', async () => {
    const factory = await d4(['graph', 'factory.ts', '-a', 'scaled', '--args', '{"factor": 2}']);
    expect(factory.stdout.split('\n')[0]).toBe("2 PEs, 1 connection (export 'scaled' of factory.ts)");
    const both = await d4(['graph', 'squares.ts', '--dot', '--json']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe("d4: option '--dot' cannot be used with option '--json' (D4_USAGE)\nsee 'd4 graph --help'\n");
    const none = await d4(['graph', 'no-graph.js']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('(D4_WORKFLOW_NO_GRAPH)');
  });
});

describe('d4 worker, help and version', () => {
  test('a mapping without workers is refused, naming the mappings that have them', async () => {
    const r = await d4(['worker', 'simple']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^d4: mapping 'simple' has no workers to start: it runs whole jobs from 'd4 run'; /);
    expect(r.stderr).toMatch(/\(D4_NO_WORKER\)\n$/);
  });

  test('--help of each command, --version, an unknown command', async () => {
    for (const command of ['run', 'list', 'graph', 'worker']) {
      const r = await d4([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`Usage: d4 ${command} [options]`)).toBe(true);
    }
    expect(await d4(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const unknown = await d4(['frob']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("d4: unknown command 'frob' (D4_USAGE)\nsee 'd4 --help'\n");
  });
});
