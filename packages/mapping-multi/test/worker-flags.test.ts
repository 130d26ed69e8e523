import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./fixtures/run-in-child.ts', import.meta.url));
// tsx's loader, as `tsx script.ts` and `node --import tsx` put it in a driver's flags.
const require = createRequire(import.meta.url);
const coreDir = dirname(require.resolve('@d4/core/package.json'));
const tsxLoader = pathToFileURL(join(dirname(createRequire(join(coreDir, 'package.json')).resolve('tsx/package.json')), 'dist/loader.mjs')).href;

async function execArgvOfWorker(flags: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, [...flags, '--import', tsxLoader, script, 'dyn_multi', 'execArgvProbe', '1'], { timeout: 60_000 });
  const outputs = JSON.parse(stdout) as Record<string, Record<string, string[][]>>;
  expect(outputs.ExecArgv0.output).toHaveLength(1);
  return outputs.ExecArgv0.output[0];
}

describe('the Node flags of worker threads', () => {
  it("drop tsx's loader for a compiled workflow and keep the driver's other flags", async () => {
    expect(await execArgvOfWorker(['--no-warnings', '--conditions=d4-test'])).toEqual(['--no-warnings', '--conditions=d4-test']);
  }, 60_000);

  it('leave out process-wide flags, which a worker may not be given (they apply to every thread already)', async () => {
    expect(await execArgvOfWorker(['--max-old-space-size=512', '--v8-pool-size', '2', '--no-warnings'])).toEqual(['--no-warnings']);
  }, 60_000);
});
