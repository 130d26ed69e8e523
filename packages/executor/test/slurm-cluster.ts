import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real one-node SLURM for the tests: `slurmctld -D` and `slurmd -D` from Debian's
 * slurm-wlm, started in the background with every file under a temporary folder, on free
 * ports of 127.0.0.1, no systemd, no munge (auth/none). Two fake GPUs (gres on /dev/tty1-2)
 * let SLURM hand out CUDA_VISIBLE_DEVICES without a GPU. `stop()` ends both daemons and
 * removes the folder; call it in afterAll, so it runs when a test fails too.
 */
export interface SlurmCluster {
  /** Environment for srun/salloc/sinfo (SLURM_CONF) and the PATH they are on. */
  env: Record<string, string>;
  node: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startSlurm(): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'd4-slurm-'));
  const node = hostname().split('.')[0];
  for (const sub of ['state', 'spool', 'tmp']) mkdirSync(join(dir, sub));
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=d4',
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/none',
      'CredType=cred/none',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      // sched/backfill made one srun in ten wait 2.4 s here
      'SchedulerType=sched/builtin',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'GresTypes=gpu',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      // Slurm's PMIx plugin makes a folder per step under TmpFS, named by uid, job and step
      // (/tmp/spmix_appdir_0_1.0): two test clusters at once (turbo runs packages' tests side
      // by side), or one left by a killed run, collided there and srun --mpi=pmix failed with
      // "task launch failed". So each cluster has its own TmpFS and starts at its own job id.
      `TmpFS=${dir}/tmp`,
      `FirstJobId=${1000 + Math.floor(Math.random() * 1_000_000)}`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      'ReturnToService=2',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=2 Gres=gpu:2 State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'gres.conf'), 'Name=gpu File=/dev/tty[1-2]\n');
  const env: Record<string, string> = { ...(process.env as Record<string, string>), SLURM_CONF: conf };
  for (const name of Object.keys(env)) if (name.startsWith('SLURM_') && name !== 'SLURM_CONF') delete env[name];
  const daemons: ChildProcess[] = [];
  const stop = async () => {
    for (const daemon of daemons) if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
    await Promise.all(
      daemons.map(
        (daemon) =>
          new Promise<void>((resolve) => {
            if (daemon.exitCode !== null || daemon.signalCode !== null) return resolve();
            const force = setTimeout(() => daemon.kill('SIGKILL'), 5000);
            daemon.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
          }),
      ),
    );
    // A step cancelled while the daemons stop leaves its slurmstepd behind (reparented to
    // init, for hours); they hold this cluster's slurmd.log open, which says whose they are.
    for (const pid of stepDaemonsOf(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const program of ['slurmctld', 'slurmd']) {
      const daemon = spawn(program, ['-D', '-f', conf], { env, stdio: ['ignore', 'ignore', 'ignore'] });
      daemons.push(daemon);
      daemon.once('error', () => undefined); // reported below as a node that never comes up
    }
    // Up when sinfo sees the node idle; the test's own timeout would be the bound, but say why sooner.
    for (let i = 0; ; i++) {
      const state = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8' }).stdout?.trim();
      if (state === 'idle') break;
      if (i === 300 || daemons.some((d) => d.exitCode !== null)) {
        const logs = ['slurmctld.log', 'slurmd.log'].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-1500) : `${f}: none`)).join('\n');
        throw new Error(`the test SLURM did not come up (node state '${state}'):\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, node, stop };
}

/** slurmstepd processes with a file of `dir` open (Linux's /proc). */
function stepDaemonsOf(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('slurmstepd')) continue;
      const fds = readdirSync(`/proc/${entry}/fd`);
      if (fds.some((fd) => opensUnder(`/proc/${entry}/fd/${fd}`, dir))) pids.push(Number(entry));
    } catch {
      // Ended meanwhile, or not ours to read.
    }
  }
  return pids;
}

function opensUnder(link: string, dir: string): boolean {
  try {
    return readlinkSync(link).startsWith(`${dir}/`);
  } catch {
    return false;
  }
}
