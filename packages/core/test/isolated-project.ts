import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A project outside this workspace that installed only some packages: node_modules/ holds
 * symlinks to them, and Node runs with --preserve-symlinks (and no NODE_PATH), so nothing
 * resolves from the workspace, whose root depends on every backend. Tests of "a backend
 * that is not installed" need it: in the workspace every known mapping is installed.
 */
export interface IsolatedProject {
  dir: string;
  /** Runs `node <nodeArgs>` in the project and returns its status and output. */
  node(nodeArgs: string[]): { status: number | null; stdout: string; stderr: string };
  remove(): void;
}

/** `packages`: package name → its folder (a package's root, where its package.json is). */
export function isolatedProject(packages: Record<string, string>): IsolatedProject {
  const dir = mkdtempSync(join(tmpdir(), 'd4-isolated-'));
  for (const [name, folder] of Object.entries(packages)) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(folder, link, 'dir');
  }
  const env = { ...process.env };
  delete env.NODE_PATH;
  return {
    dir,
    node(nodeArgs) {
      const r = spawnSync(process.execPath, ['--preserve-symlinks', '--preserve-symlinks-main', ...nodeArgs], { cwd: dir, env, encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The folder of a package as `from` resolves it (its entry, then up to its package.json). */
export function packageFolder(name: string, from: string | URL): string {
  let folder = dirname(realpathSync(createRequire(from).resolve(name)));
  while (!isPackageRoot(folder, name)) {
    if (dirname(folder) === folder) throw new Error(`no package.json of ${name} above its entry`);
    folder = dirname(folder);
  }
  return folder;
}

function isPackageRoot(folder: string, name: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: string }).name === name;
  } catch {
    return false;
  }
}

/** This package's folder (packages/core). */
export const coreFolder = fileURLToPath(new URL('..', import.meta.url));
