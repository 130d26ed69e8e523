import { describe, expect, it } from '@jest/globals';
import { launchCommand, rankProgram, splitArgs } from '../src/launch/command.js';
import { MpiexecOutput } from '../src/launch/mpiexec-output.js';
import { ptyNewlines } from '../src/launch/pty-lines.js';

const base = { program: ['/usr/bin/node', '/d4/dist/rank.js'], mpiexec: '/usr/bin/mpiexec', cores: 2, isRoot: false, env: { PATH: '/usr/bin', D4_X: '1' } };

describe('the command line that starts the ranks', () => {
  it('mpiexec -n N with the environment passed on and no binding, within the cores', () => {
    expect(launchCommand({ ...base, size: 2 })).toEqual({
      command: '/usr/bin/mpiexec',
      args: ['-n', '2', '--bind-to', 'none', '-x', 'D4_X', '-x', 'PATH', '/usr/bin/node', '/d4/dist/rank.js'],
      env: { ...base.env, OMPI_MCA_pml: 'ob1' },
    });
  });

  it("ranks all on this host get Open MPI's ob1 point-to-point layer, unless the user chose one or ranks may run elsewhere", () => {
    const pml = (settings: Partial<Parameters<typeof launchCommand>[0]>) => launchCommand({ ...base, size: 6, ...settings }).env.OMPI_MCA_pml;
    expect(pml({})).toBe('ob1');
    expect(pml({ env: { ...base.env, OMPI_MCA_pml: 'ucx' } })).toBe('ucx');
    expect(pml({ extraArgs: '--mca pml cm' })).toBeUndefined();
    expect(pml({ hostfile: 'hosts.txt' })).toBeUndefined();
    expect(pml({ extraArgs: '--host a,b' })).toBeUndefined();
    expect(pml({ extraArgs: '-H a:2' })).toBeUndefined();
    expect(pml({ env: { ...base.env, OMPI_MCA_orte_default_hostfile: '/etc/hosts.d4' } })).toBeUndefined();
    expect(pml({ env: { ...base.env, SLURM_JOB_ID: '42' } })).toBeUndefined();
    expect(pml({ flavour: 'mpich' })).toBeUndefined();
  });

  it('--oversubscribe beyond the cores, --allow-run-as-root as root, the hostfile and the extra arguments last before the program', () => {
    const { args } = launchCommand({ ...base, size: 6, isRoot: true, hostfile: 'hosts.txt', extraArgs: '--mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24' });
    expect(args).toEqual(['-n', '6', '--oversubscribe', '--allow-run-as-root', '--bind-to', 'none', '--hostfile', 'hosts.txt', '-x', 'D4_X', '-x', 'PATH', '--mca', 'btl', 'tcp,self', '--mca', 'btl_tcp_if_include', '10.77.0.0/24', '/usr/bin/node', '/d4/dist/rank.js']);
  });

  it('ranks beyond the cores run V8 without background threads, as many as the cores without its compiler threads, fewer with both', () => {
    expect(rankProgram('/usr/bin/node', '/d4/dist/rank.js', 6, 2)).toEqual(['/usr/bin/node', '--single-threaded', '/d4/dist/rank.js']);
    expect(rankProgram('/usr/bin/node', '/d4/dist/rank.js', 2, 2)).toEqual(['/usr/bin/node', '--no-concurrent-recompilation', '/d4/dist/rank.js']);
    expect(rankProgram('/usr/bin/node', '/d4/dist/rank.js', 2, 4)).toEqual(['/usr/bin/node', '/d4/dist/rank.js']);
  });

  it("the user's own --bind-to and --oversubscribe are not doubled", () => {
    const { args } = launchCommand({ ...base, size: 6, extraArgs: '--bind-to core --oversubscribe' });
    expect(args.filter((a) => a === '--bind-to' || a === '--oversubscribe')).toEqual(['--bind-to', '--oversubscribe']);
    expect(args.slice(-4)).toEqual(['core', '--oversubscribe', '/usr/bin/node', '/d4/dist/rank.js']);
  });

  it("variables that describe one process or host (Open MPI's, SLURM's, the shell's) are not passed with -x", () => {
    const env = { ...base.env, OMPI_COMM_WORLD_RANK: '3', PMIX_RANK: '3', SLURM_JOB_ID: undefined, PWD: '/x', 'BAD-NAME': 'y', HOME: '/root' };
    const { args } = launchCommand({ ...base, size: 2, env });
    expect(args.filter((_, i) => args[i - 1] === '-x')).toEqual(['D4_X', 'HOME', 'PATH']);
  });

  it('inside a SLURM allocation: srun --mpi=pmix -n N', () => {
    const env = { ...base.env, SLURM_JOB_ID: '42' };
    expect(launchCommand({ ...base, size: 4, env, extraArgs: '--nodes 2' })).toEqual({
      command: 'srun',
      args: ['--mpi=pmix', '-n', '4', '--nodes', '2', '/usr/bin/node', '/d4/dist/rank.js'],
      env,
    });
  });
});

describe('--mpiexec-args is split as a shell would', () => {
  it('spaces, quotes and backslashes', () => {
    expect(splitArgs(`  --mca btl "tcp,self"  -x 'A B' C\\ D "" `)).toEqual(['--mca', 'btl', 'tcp,self', '-x', 'A B', 'C D', '']);
  });
  it('an unclosed quote is refused with the option named', () => {
    expect(() => splitArgs('--mca "btl')).toThrow(expect.objectContaining({ code: 'D4_MPI_OPTION', message: '--mpiexec-args has an unclosed " quote: --mca "btl' }));
  });
});

describe("mpiexec's stderr", () => {
  const rule = '-'.repeat(74);
  it("passes the ranks' lines through whole and keeps Open MPI's banners back, noting the rank that died", () => {
    const shown: string[] = [];
    const output = new MpiexecOutput((text) => shown.push(text));
    output.write('a PE says hel');
    output.write(`lo\n${rule}\nPrimary job  terminated normally, but 1 process returned\na non-zero exit code.\n${rule}\n`);
    output.write(`${rule}\nmpiexec noticed that process rank 3 with PID 0 on node vm exited on signal 9 (Killed).\n${rule}\n[vm:1] [[1,0],0] ORTE_ERROR_LOG: Data unpack\n[warn] Epoll MOD(1) on fd 23 failed. Old events were 6\ntail`);
    output.flush();
    expect(shown.join('')).toBe('a PE says hello\ntail\n');
    expect(output.death).toEqual({ rank: 3, host: 'vm', how: 'signal 9 (Killed)' });
    expect(output.notes).toEqual(['Primary job  terminated normally, but 1 process returned a non-zero exit code.', 'mpiexec noticed that process rank 3 with PID 0 on node vm exited on signal 9 (Killed).']);
  });
});

describe("MPICH's Hydra report (on its stdout)", () => {
  const rule = '='.repeat(83);
  it("holds back the banner with the empty lines before it and the lines after it, noting the pid, host and exit string; other empty lines pass", () => {
    const shown: string[] = [];
    const output = new MpiexecOutput((text) => shown.push(text));
    output.write('first\n\nsecond\n\n\n');
    output.write(`${rule}\n=   BAD TERMINATION OF ONE OF YOUR APPLICATION PROCESSES\n=   PID 27732 RUNNING AT vm\n=   EXIT CODE: 9\n${rule}\n`);
    output.write('YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)\nThis typically refers to a problem with your application.\nPlease see the FAQ page for debugging suggestions\n');
    output.write('Abort(1) on node 0 (rank 0 in comm 0): application called MPI_Abort(MPI_COMM_WORLD, 1) - process 0\nlast\n\n');
    output.flush();
    expect(shown.join('')).toBe('first\n\nsecond\nlast\n\n');
    expect(output.death).toEqual({ pid: 27732, host: 'vm', how: 'Killed (signal 9)' });
  });
});

describe("the ranks' stdout (a pty under mpiexec)", () => {
  it('"\\r\\n" becomes "\\n", also when a chunk ends between the two', () => {
    const out: string[] = [];
    const lines = ptyNewlines((text) => out.push(text));
    lines.write('{ printed: 1 }\r\n{ printed: 2 }\r');
    lines.write('\nalone\r');
    lines.write('x\r');
    lines.flush();
    expect(out.join('')).toBe('{ printed: 1 }\n{ printed: 2 }\nalone\rx\r');
  });
});
