// A zeromq binary that does not load: over ipc:// the driver starts its workers before it
// loads zeromq itself (they boot meanwhile), so the run must still end with the driver's
// D4_ZMQ_UNAVAILABLE and exit 2, over tcp:// as well. spawnSync returns only once every
// process holding the run's stderr has ended: the local workers are gone too.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { fixtures, protocols } from './helpers.js';

const cli = fileURLToPath(new URL('../../cli/bin/d4.js', import.meta.url));
const noZeromq = fileURLToPath(new URL('./fixtures/no-zeromq.cjs', import.meta.url));

describe.each(protocols)('over %s://', (protocol) => {
  it("a zeromq that does not load ends the run with D4_ZMQ_UNAVAILABLE and exit 2, naming what to do", () => {
    const run = spawnSync(process.execPath, ['-r', noZeromq, cli, 'run', 'zmq_multi', fixtures, '-a', 'pipeline', '-i', '10', '-n', '3', '--protocol', protocol], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 2, signal: null });
    expect(run.stderr).toContain(
      `d4: zmq_multi needs zeromq's native binary, which does not load on this machine (${process.platform}-${process.arch}, Node ${process.versions.node}): addon.node cannot be opened (test); reinstall with 'npm rebuild zeromq' or use another mapping (multi, redis) (D4_ZMQ_UNAVAILABLE)`,
    );
  });
});
