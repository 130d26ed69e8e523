import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MappingNotInstalledError, UnknownMappingError, D4Error } from './errors.js';
import type { Mapping } from './mapping.js';
import { simpleMapping } from './simple.js';

/**
 * Mapping name → the package that provides it. A backend package exports
 * `mappings: Record<name, Mapping>`. A third-party mapping `foo` is published as the
 * package `d4-mapping-foo` exporting `mappings.foo`; a name with a `/` or `@` is taken
 * as `package#mapping` (e.g. `@acme/d4-mapping-gpu#gpu`).
 */
export const KNOWN_MAPPINGS: Readonly<Record<string, { package: string; description: string }>> = {
  simple: { package: '@d4/core', description: 'sequential, in-process (embedded default)' },
  multi: { package: '@d4/mapping-multi', description: 'fixed distribution on worker threads' },
  dyn_multi: { package: '@d4/mapping-multi', description: 'dynamic distribution on worker threads (stateless)' },
  dyn_auto_multi: { package: '@d4/mapping-multi', description: 'dynamic distribution with autoscaling on worker threads (stateless)' },
  redis: { package: '@d4/mapping-redis', description: 'fixed distribution over Redis Streams' },
  dyn_redis: { package: '@d4/mapping-redis', description: 'dynamic distribution over Redis Streams (stateless)' },
  dyn_auto_redis: { package: '@d4/mapping-redis', description: 'dynamic distribution with autoscaling over Redis Streams (stateless)' },
  hybrid_redis: { package: '@d4/mapping-redis', description: 'stateful PEs pinned, stateless PEs shared, over Redis Streams' },
  zmq_multi: { package: '@d4/mapping-zmq', description: 'fixed distribution over ZeroMQ, across processes and hosts' },
  mpi: { package: '@d4/mapping-mpi', description: 'fixed distribution over MPI (run under mpiexec)' },
};

export interface LoadMappingOptions {
  /** Where packages are resolved from (the user's project). Default: process.cwd(). */
  cwd?: string;
}

/** Finds a mapping by name, importing its package from the user's project. */
export async function loadMapping(name: string, options: LoadMappingOptions = {}): Promise<Mapping> {
  if (name === 'simple') return simpleMapping;
  const { packageName, mappingName } = packageFor(name);
  const namespace = await importPackage(packageName, options.cwd ?? process.cwd());
  if (!namespace) {
    if (KNOWN_MAPPINGS[name] || name.includes('#')) throw new MappingNotInstalledError(name, packageName);
    throw new UnknownMappingError(
      `unknown mapping '${name}': d4 knows ${Object.keys(KNOWN_MAPPINGS).join(', ')}; a third-party mapping '${name}' would come from the package ${packageName}, which is not installed`,
    );
  }
  const mappings = (namespace.mappings ?? (namespace.default as { mappings?: unknown } | undefined)?.mappings) as Record<string, Mapping> | undefined;
  const mapping = mappings?.[mappingName];
  if (!mapping || typeof mapping.run !== 'function') {
    throw new D4Error('D4_BAD_MAPPING_PACKAGE', `package ${packageName} does not export mappings.${mappingName}; its mappings are: ${mappings ? Object.keys(mappings).join(', ') : '(none: it exports no `mappings` object)'}`);
  }
  return mapping;
}

function packageFor(name: string): { packageName: string; mappingName: string } {
  const known = KNOWN_MAPPINGS[name];
  if (known) return { packageName: known.package, mappingName: name };
  if (name.includes('#')) {
    const [packageName, mappingName] = name.split('#', 2);
    return { packageName, mappingName };
  }
  return { packageName: `d4-mapping-${name}`, mappingName: name };
}

/** Extra places to resolve backend packages from, added by hosts such as the CLI. */
const extraBases: string[] = [];
/** Lets a host (the CLI) add places to resolve backends from, e.g. its own install. */
export function addMappingSearchPath(fromFileOrUrl: string): void {
  extraBases.push(fromFileOrUrl);
}

/** Imports a package from the user's project, else from where core is installed. */
async function importPackage(packageName: string, cwd: string): Promise<Record<string, unknown> | undefined> {
  const bases = [resolve(cwd, 'package.json'), import.meta.url, ...extraBases];
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve(packageName);
    } catch {
      continue;
    }
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  }
  return undefined;
}

export interface MappingInfo {
  name: string;
  package: string;
  description: string;
  installed: boolean;
  mapping?: Mapping;
  /** Why an installed package could not give this mapping (a broken or foreign package). */
  error?: string;
}

/** Every known mapping, whether its package is installed, and its options. */
export async function listMappings(options: LoadMappingOptions = {}): Promise<MappingInfo[]> {
  const out: MappingInfo[] = [];
  for (const [name, info] of Object.entries(KNOWN_MAPPINGS)) {
    try {
      const mapping = await loadMapping(name, options);
      out.push({ name, package: info.package, description: mapping.description, installed: true, mapping });
    } catch (error) {
      const installed = !(error instanceof MappingNotInstalledError);
      out.push({ name, package: info.package, description: info.description, installed, ...(installed ? { error: (error as Error).message } : {}) });
    }
  }
  return out;
}
