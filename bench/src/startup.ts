/**
 * Start-up of the `d4` command: whole-process wall time, spawn to exit, of a run so short
 * (`-i 3`) that nearly all of it is start-up: Node's boot, the CLI, the mapping, loading the
 * workflow. One warm-up run per command first (it fills the compiled-workflow cache, as a
 * user's first run does), then repetitions taking turns across the commands (A B C A B C …),
 * and one JSON line per command with the median, on stdout. `node -e 0` is measured beside
 * them: what Node alone costs on this machine at that moment.
 *
 *   npx tsx bench/src/startup.ts [--mapping simple,multi] [--reps R] [--root DIR[,DIR…]]
 *       [--extra-ca-certs both|as-is] [--json-only]
 *
 * --root names checkouts (their packages/cli bin and examples/; default this one): with two,
 * an older build and this one are timed in turns in the same minutes.
 *
 * NODE_EXTRA_CA_CERTS: Node 20 reads and parses that file at every process start, before any
 * JavaScript runs (nodejs/node#40524; later Node versions load it on first TLS use). Set to a
 * whole CA bundle, as on the machine d4 is developed on, it made `node -e 0` 0.08–0.14 s
 * instead of 0.04 s. So where it is set, each command is also timed with it removed, in the
 * same turns (`--extra-ca-certs as-is` times only the environment as given), and every line
 * says which (`extraCaCerts`: "set" or "unset").
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './stats.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const WORKFLOW = 'examples/graph_testing/pipeline_test.ts';

interface StartupCommand {
  label: string;
  mapping?: string;
  argv: string[];
  cwd: string;
  /** The checkout whose d4 runs (none for `node -e 0`). */
  root: string | undefined;
  /** Whether NODE_EXTRA_CA_CERTS is removed from this command's environment. */
  withoutExtraCa: boolean;
}

const EXTRA_CA = 'NODE_EXTRA_CA_CERTS';

function environmentOf(command: StartupCommand): NodeJS.ProcessEnv {
  if (!command.withoutExtraCa) return process.env;
  const env = { ...process.env };
  delete env[EXTRA_CA];
  return env;
}

interface Outcome {
  ms: number;
  ok: boolean;
  detail: string;
}

function runOnce(command: StartupCommand): Promise<Outcome> {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(process.execPath, command.argv, { cwd: command.cwd, env: environmentOf(command), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => done({ ms: 0, ok: false, detail: error.message }));
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      done({ ms, ok: code === 0 && output === '', detail: code === 0 ? output.slice(0, 500) : `exit ${code}: ${output.slice(-500)}` });
    });
  });
}

function d4Bin(root: string): string {
  const committed = join(root, 'packages/cli/bin/d4.js');
  return existsSync(committed) ? committed : join(root, 'packages/cli/dist/bin.js');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mapping: { type: 'string', default: 'simple,multi' },
      reps: { type: 'string', default: '15' },
      root: { type: 'string', default: REPO_ROOT },
      'json-only': { type: 'boolean', default: false },
      'extra-ca-certs': { type: 'string', default: 'both' },
    },
  });
  const extraCa = values['extra-ca-certs'];
  if (extraCa !== 'both' && extraCa !== 'as-is') throw new Error(`--extra-ca-certs takes 'both' or 'as-is', got '${extraCa}'`);
  // Without the variable set there is nothing to remove: one variant only.
  const variants = extraCa === 'both' && process.env[EXTRA_CA] ? [false, true] : [false];
  const reps = Number(values.reps);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps takes a whole number of at least 1, got '${values.reps}'`);
  const roots = values.root.split(',').map((r) => resolve(r));
  const commands: StartupCommand[] = variants.flatMap((withoutExtraCa) => [
    { label: 'node -e 0', argv: ['-e', '0'], cwd: roots[0], root: undefined, withoutExtraCa },
    ...roots.flatMap((root) =>
      values.mapping.split(',').map((mapping) => ({
        label: `d4 run ${mapping} ${WORKFLOW} -i 3 --results none`,
        mapping,
        argv: [d4Bin(root), 'run', mapping, WORKFLOW, '-i', '3', '--results', 'none'],
        cwd: root,
        root,
        withoutExtraCa,
      })),
    ),
  ]);
  const times = commands.map(() => [] as number[]);
  const failures: Array<string | undefined> = commands.map(() => undefined);
  for (const [i, command] of commands.entries()) {
    const warm = await runOnce(command);
    if (!warm.ok) failures[i] = warm.detail;
  }
  for (let rep = 0; rep < reps; rep++) {
    if (!values['json-only']) process.stderr.write(`startup: repetition ${rep + 1} of ${reps} …\n`);
    for (const [i, command] of commands.entries()) {
      if (failures[i]) continue;
      const outcome = await runOnce(command);
      if (outcome.ok) times[i].push(outcome.ms);
      else failures[i] = outcome.detail;
    }
  }
  const round = (ms: number) => Number((ms / 1000).toPrecision(3));
  for (const [i, command] of commands.entries()) {
    const line = {
      bench: 'startup',
      command: command.label,
      ...(command.mapping ? { mapping: command.mapping } : {}),
      ...(command.root ? { root: command.root } : {}),
      extraCaCerts: command.withoutExtraCa || !process.env[EXTRA_CA] ? 'unset' : 'set',
      reps: times[i].length,
      status: failures[i] ? 'failed' : 'ok',
      ...(failures[i] ? { error: failures[i] } : { wallSeconds: { median: round(median(times[i])), min: round(Math.min(...times[i])), max: round(Math.max(...times[i])) } }),
      node: process.version,
      cpus: cpus().length,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

await main();
