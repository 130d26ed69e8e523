import { describe, expect, test } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { BufferStream, d4, conformanceGraphsModule, fixtures, spawnD4, spawnD4WithoutBackends } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const graphs = conformanceGraphsModule;

function json(stdout: string): { outputs: Record<string, Record<string, unknown[]>>; counts: Record<string, Record<string, number>>; stats: { mapping: string; pes: Record<string, { calls: number }> } } {
  return JSON.parse(stdout);
}

describe('d4 run: outputs', () => {
  // The README's pipeline_test exports one graph object. The d4 command loads its compiled
  // copy, so the pool's driver took a rebuild from the .ts file (new objects) for a factory
  // and put several workers in each thread, which then got the same PEs from the compiled
  // copy: "the workflow module gave the same PE objects twice". Each worker of a thread now
  // gets its own evaluation of the module, and the driver checks that on the copy they import.
  test.each([['dyn_multi'], ['dyn_auto_multi']])('%s -n 6 on the README\'s pipeline_test (a graph object), with the d4 command', async (mapping) => {
    const r = await spawnD4(['run', mapping, 'examples/graph_testing/pipeline_test.ts', '-n', '6', '-i', '30', '--results', 'json'], { cwd: repoRoot });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const items = (json(r.stdout).outputs.TestOneInOneOut5!.output as number[]).sort((a, b) => a - b);
    expect(items).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  test.each([['dyn_multi'], ['dyn_auto_multi']])('%s -n 6 --threads 2 runs a module that exports a graph object, three workers to a thread', async (mapping) => {
    const r = await d4(['run', mapping, 'squares.ts', '-n', '6', '--threads', '2', '-i', '30', '--results', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const squares = (json(r.stdout).outputs.Square1!.output as number[]).sort((a, b) => a - b);
    expect(squares).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * (i + 1)));
  });

  test('pipeline -i 3 prints the sink values as one JSON document', async () => {
    const r = await d4(['run', 'simple', graphs, '-a', 'pipeline', '-i', '3', '--results', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = json(r.stdout);
    expect(doc.outputs).toEqual({ Identity5: { output: [1, 2, 3] } });
    expect(doc.counts).toEqual({ Identity5: { output: 3 } });
    expect(doc.stats.mapping).toBe('simple');
    expect(Object.fromEntries(Object.entries(doc.stats.pes).map(([id, s]) => [id, s.calls]))).toEqual({
      CountingProducer0: 3,
      Identity1: 3,
      Identity2: 3,
      Identity3: 3,
      Identity4: 3,
      Identity5: 3,
    });
  });

  test('pretty results are an Outputs: block, one port per line', async () => {
    const r = await d4(['run', 'simple', graphs, '-a', 'pipeline', '-i', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Outputs:\n  Identity5.output: [1, 2, 3]\n');
  });

  test('teeCopy fills both sinks; unconnectedPort keeps the odd numbers of the unconnected port too', async () => {
    const tee = await d4(['run', 'simple', graphs, '-a', 'teeCopy', '-i', '3']);
    expect(tee.stdout).toBe('Outputs:\n  Identity1.output: [1, 2, 3]\n  Identity2.output: [1, 2, 3]\n');
    const split = json((await d4(['run', 'simple', graphs, '-a', 'unconnectedPort', '-i', '5', '--results', 'json'])).stdout);
    expect(split.outputs).toEqual({ EvenOdd1: { odd: [1, 3, 5] }, Identity2: { output: [2, 4] } });
  });

  test('splitMerge -i 3 gives each number twice, as strings', async () => {
    const doc = json((await d4(['run', 'simple', graphs, '-a', 'splitMerge', '-i', '3', '--results', 'json'])).stdout);
    expect([...(doc.outputs.Concat3.output as string[])].sort()).toEqual(['1', '1', '2', '2', '3', '3']);
  });

  test('-d feeds a named PE a list of inputs (objects as given, other values to the first input)', async () => {
    const r = await d4(['run', 'simple', graphs, '-a', 'listInputs', '-d', '{"read": [{"input": "a"}, {"input": "b"}, "c"]}', '--results', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout).outputs).toEqual({ Identity1: { output: ['a!', 'b!', 'c!'] } });
  });

  test('-f reads the inputs from a JSON file (resolved from the working directory); PE logs go to stderr', async () => {
    const r = await d4(['run', 'simple', 'words.js', '-f', 'inputs.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Outputs:\n  Exclaim1.output: ["ALPHA!", "BETA!"]\n');
    expect(r.stderr).toBe('Exclaim1 (rank 0): exclaiming ALPHA\nExclaim1 (rank 0): exclaiming BETA\n');
  });

  test('a TypeScript workflow with a default export', async () => {
    const r = await d4(['run', 'simple', 'squares.ts', '-i', '4']);
    expect(r.stdout).toBe('Outputs:\n  Square1.output: [1, 4, 9, 16]\n');
  });

  test('-a picks one of several graphs', async () => {
    const r = await d4(['run', 'simple', 'two-graphs.ts', '-a', 'doubled', '-i', '2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Outputs:\n  Double1.output: [2, 4]\n');
  });

  test('--args passes JSON to a factory export', async () => {
    const r = await d4(['run', 'simple', 'factory.ts', '-a', 'scaled', '--args', '{"factor": 10, "count": 4}', '--results', 'json']);
    expect(r.code).toBe(0);
    expect(json(r.stdout).outputs).toEqual({ Scale1: { output: [10, 20, 30, 40] } });
  });

  test('--count keeps counts only', async () => {
    const pretty = await d4(['run', 'simple', graphs, '-a', 'pipeline', '-i', '5', '--count']);
    expect(pretty.stdout).toBe('Counts:\n  Identity5.output: 5\n');
    const doc = json((await d4(['run', 'simple', graphs, '-a', 'pipeline', '-i', '5', '--count', '--results', 'json'])).stdout);
    expect(doc.outputs).toEqual({});
    expect(doc.counts).toEqual({ Identity5: { output: 5 } });
  });

  test('--results none prints nothing; --verbose adds the per-PE figures on stderr', async () => {
    const none = await d4(['run', 'simple', 'squares.ts', '-i', '2', '--results', 'none']);
    expect(none).toEqual({ code: 0, stdout: '', stderr: '' });
    const verbose = await d4(['run', 'simple', 'squares.ts', '-i', '2', '--results', 'none', '--verbose']);
    const lines = verbose.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ran on simple in [\d.]+ m?s$/);
    expect(lines.slice(1).map((l) => l.replace(/, [\d.]+ m?s in process\(\)$/, ''))).toEqual([
      '  Numbers0: 1 instance, 2 calls, 2 writes',
      '  Square1: 1 instance, 2 calls, 2 writes',
    ]);
  });

  test('--results none keeps no values: a PE writes 200 000 and the run holds counts only', async () => {
    type Recorded = { options: { collect?: string }; result: { outputs: unknown; counts: unknown } };
    const recorded = globalThis as { d4RecordedRun?: Recorded };
    delete recorded.d4RecordedRun;
    const r = await d4(['run', './fake-mapping.js#record', 'burst.ts', '--results', 'none']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    const run = recorded.d4RecordedRun as Recorded | undefined;
    expect(run?.options.collect).toBe('count');
    expect(run?.result.outputs).toEqual({});
    expect(run?.result.counts).toEqual({ Burst0: { output: 200_000 } });
  });

  test('a graph whose sinks write nothing says so', async () => {
    const r = await d4(['run', 'simple', 'squares.ts', '-i', '0']);
    expect(r.stdout).toBe('Outputs: none (no PE wrote to an unconnected output port)\n');
  });
});

describe('d4 run: mapping options', () => {
  const echo = './fake-mapping.js#echo';

  test("a mapping's own flags reach run() under the names the mapping declares, typed", async () => {
    const r = await d4(['run', echo, 'squares.ts', '-i', '2', '-n', '3', '--fast', '--label', 'x', '--results', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { outputs: unknown; stats: { given: unknown } };
    expect(doc.outputs).toEqual({ Square1: { output: [1, 4] } });
    expect(doc.stats.given).toEqual({ numProcesses: 3, fast: true, label: 'x' });
  });

  test('defaults apply when a flag is not given', async () => {
    const r = await d4(['run', echo, 'squares.ts', '--results', 'json']);
    expect((JSON.parse(r.stdout) as { stats: { given: unknown } }).stats.given).toEqual({ numProcesses: 4 });
  });

  test('a mapping option with a bad value is refused with the flag and the value (exit 2)', async () => {
    const r = await d4(['run', echo, 'squares.ts', '-n', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("d4: option '-n, --num <n>' argument 'abc' is invalid. expected a number, e.g. 4 (D4_USAGE)\nsee 'd4 run --help'\n");
  });

  test('the same flag on another mapping is unknown', async () => {
    const r = await d4(['run', 'simple', 'squares.ts', '-n', '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^d4: unknown option '-n' \(D4_USAGE\)\n/);
  });

  test("a mapping whose flag clashes with d4 run's own is refused, naming both", async () => {
    const r = await d4(['run', './fake-mapping.js#clash', 'squares.ts']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "d4: mapping 'clash' declares the option '-i, --instances <n>', whose flag -i is already d4 run's own '-i, --iterations <n>'; the mapping package must choose another flag (D4_BAD_MAPPING_PACKAGE)\n",
    );
  });

  test("'d4 run <mapping> --help' lists the mapping's options", async () => {
    const r = await d4(['run', echo, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Options of mapping 'echo':\n  -n, --num <n>         number of processes (default: 4)\n  --label <text>        a label (env: D4_FAKE_LABEL)\n  --fast                go fast\n");
  });
});

describe('d4 run: bad input is refused before work, exit 2', () => {
  async function refused(args: string[], code: string): Promise<string> {
    const r = await d4(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith(`(${code})\n`)).toBe(true);
    expect(r.stderr.startsWith('d4: ')).toBe(true);
    return r.stderr;
  }

  test('unknown mapping', async () => {
    const message = await refused(['run', 'nosuch', 'squares.ts'], 'D4_UNKNOWN_MAPPING');
    expect(message).toContain("unknown mapping 'nosuch'");
    expect(message).toContain('simple, multi');
  });

  test('a known mapping whose package is not installed names the package', () => {
    // A project with only the CLI: in this workspace every backend is installed.
    const r = spawnD4WithoutBackends(['run', 'mpi', fixtures + 'squares.ts', '-i', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "d4: mapping 'mpi' is provided by @d4/mapping-mpi, which is not installed here: run `npm install @d4/mapping-mpi` (or `pnpm add @d4/mapping-mpi`) in your project (D4_MAPPING_NOT_INSTALLED)\n",
    );
  });

  test('a module without a graph lists the candidate functions', async () => {
    const message = await refused(['run', 'simple', 'no-graph.js'], 'D4_WORKFLOW_NO_GRAPH');
    expect(message).toBe('d4: no-graph.js exports no WorkflowGraph; if one of its functions builds the graph, pick it with -a (candidates: helper) (D4_WORKFLOW_NO_GRAPH)\n');
  });

  test('a module with two graphs and no default asks for -a with both names', async () => {
    const message = await refused(['run', 'simple', 'two-graphs.ts'], 'D4_WORKFLOW_AMBIGUOUS');
    expect(message).toBe('d4: two-graphs.ts exports several graphs (doubled, negated); pick one with -a NAME (D4_WORKFLOW_AMBIGUOUS)\n');
  });

  test('-a naming an export that does not exist', async () => {
    const message = await refused(['run', 'simple', 'two-graphs.ts', '-a', 'tripled'], 'D4_WORKFLOW_NO_EXPORT');
    expect(message).toContain("two-graphs.ts has no export 'tripled' (-a); its exports are: doubled, negated");
  });

  test('a workflow file that does not exist', async () => {
    const message = await refused(['run', 'simple', 'missing.ts'], 'D4_WORKFLOW_NOT_FOUND');
    expect(message).toContain('workflow module not found');
  });

  test('invalid JSON for -d', async () => {
    const message = await refused(['run', 'simple', 'squares.ts', '-d', '{bad'], 'D4_INPUT_JSON');
    expect(message).toContain('the -d option is not valid JSON');
  });

  test('invalid JSON for --args', async () => {
    const message = await refused(['run', 'simple', 'factory.ts', '-a', 'scaled', '--args', '{"factor": 1'], 'D4_ARGS_JSON');
    expect(message).toContain('--args is not valid JSON');
  });

  test('a missing -f file', async () => {
    const message = await refused(['run', 'simple', 'words.js', '-f', 'nope.json'], 'D4_INPUT_FILE');
    expect(message).toContain('cannot read the input file given with -f:');
    expect(message).toContain('nope.json (ENOENT)');
  });

  test('an unknown PE name lists the PEs that exist', async () => {
    const message = await refused(['run', 'simple', 'squares.ts', '-d', '{"Nope": 3}'], 'D4_INPUT_UNKNOWN_PE');
    expect(message).toBe("d4: the input names PE 'Nope', which is not in the graph; the graph's PEs are: Numbers0, Square1 (roots: Numbers0) (D4_INPUT_UNKNOWN_PE)\n");
  });

  test('a factory that needs --args and did not get them', async () => {
    const message = await refused(['run', 'simple', 'factory.ts', '-a', 'scaled'], 'D4_WORKFLOW_FACTORY');
    expect(message).toContain('the factory scaled() of factory.ts threw');
  });

  test('-i that is not a whole number, --results that is not a format, a missing argument', async () => {
    expect((await d4(['run', 'simple', 'squares.ts', '-i', 'x'])).stderr).toBe(
      "d4: option '-i, --iterations <n>' argument 'x' is invalid. expected a whole number of iterations (0 or more) (D4_USAGE)\nsee 'd4 run --help'\n",
    );
    const results = await d4(['run', 'simple', 'squares.ts', '--results', 'xml']);
    expect(results.code).toBe(2);
    expect(results.stderr).toContain('Allowed choices are pretty, json, none.');
    const missing = await d4(['run', 'simple']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("d4: missing required argument 'workflow' (D4_USAGE)\nsee 'd4 run --help'\n");
  });
});

describe('d4 run: failures and interruption', () => {
  test('a PE that throws fails the run with exit 1, the PE id, the item and its stack', async () => {
    const r = await d4(['run', 'simple', 'failing.ts', '-i', '3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const [first, second, third] = r.stderr.split('\n');
    expect(first).toBe('d4: PE Fragile1 failed while processing {"input":2}: two is not allowed here (D4_PE_FAILED)');
    expect(second).toBe('PE stack:');
    expect(third).toBe('  Error: two is not allowed here');
    expect(r.stderr).toContain('failing.ts:');
  });

  test('simple refuses a value no other mapping can carry (exit 1, D4_CODEC), unless --no-strict', async () => {
    const strict = await d4(['run', 'simple', 'callback.ts', '-i', '2']);
    expect(strict).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "d4: PE WithCallback1 wrote to port 'output' a value that cannot cross a process boundary: it holds a function notify; send plain data (numbers, strings, arrays, objects, Map, Set, Date, typed arrays) instead (D4_CODEC)\n",
    });
    const loose = await d4(['run', 'simple', 'callback.ts', '-i', '2', '--no-strict', '--count']);
    expect(loose).toEqual({ code: 0, stdout: 'Counts:\n  WithCallback1.output: 2\n', stderr: '' });
  });

  test('an aborted signal ends the run with exit 130', async () => {
    const controller = new AbortController();
    controller.abort('stop');
    const r = await d4(['run', 'simple', 'squares.ts', '-i', '3'], { signal: controller.signal });
    expect(r).toEqual({ code: 130, stdout: '', stderr: 'd4: the run was aborted: stop (D4_ABORTED)\n' });
  });
});

describe('d4 run: progress line', () => {
  test('on a terminal, a long run draws items per PE on one line and clears it at the end', async () => {
    const stderr = new BufferStream(true, 120);
    // Each of the 20 items waits 5 ms on a timer; the line is due at once and every 2 ms.
    const r = await d4(['run', 'simple', 'slow.ts', '-i', '20'], { stderr, progressDelayMs: 0, progressIntervalMs: 2 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Outputs:\n  Wait1.output: [${Array.from({ length: 20 }, (_, k) => k + 1).join(', ')}]\n`);
    const frames = stderr.text.split('\r\x1b[K').filter((f) => f !== '');
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expect(frame).toMatch(/^d4 \d+\.\ds {2}Count0 \d+ · Wait1 \d+$/);
    expect(stderr.text.endsWith('\r\x1b[K')).toBe(true);
  });

  test('not on a terminal: no progress line', async () => {
    const r = await d4(['run', 'simple', 'slow.ts', '-i', '5'], { progressDelayMs: 0, progressIntervalMs: 2 });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});
