import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Stack traces through a compiled workflow (a module under COMPILED_WORKFLOW_DIR, which
 * carries an inline source map) name the user's .ts files and lines, as Node's own source
 * maps would. Why not `process.setSourceMapsEnabled(true)`: Node then decodes and parses the
 * module's map while it loads, on every run; for pipeline_test that was ~7 % of a warm
 * `d4 run simple` (measured by instruction counts under callgrind). Here a map is read only
 * when a stack through the module is formatted (`.stack` is formatted on first read), which a
 * run without errors never does. Output is Node's: `    at fn (/path/file.ts:line:col)`.
 */
let installed = false;
const maps = new Map<string, SourceMap | undefined>();

export function mapCompiledStacks(isCompiled: (file: string) => boolean): void {
  if (installed) return;
  installed = true;
  // Someone else formats stacks already (a user's hook, or Node's own source maps through
  // --enable-source-maps): leave theirs, and let Node map the compiled module as before.
  // Node 20.x has a default hook of its own (`ErrorPrepareStackTrace`), which formats as below.
  const current = Error.prepareStackTrace;
  const someoneElses = current !== undefined && current.name !== 'ErrorPrepareStackTrace';
  if (someoneElses || (process as { sourceMapsEnabled?: boolean }).sourceMapsEnabled) {
    process.setSourceMapsEnabled(true);
    return;
  }
  Error.prepareStackTrace = (error, frames) => {
    const header = errorHeader(error);
    if (frames.length === 0) return header;
    return `${header}\n    at ${frames.map((frame) => frameText(frame, isCompiled)).join('\n    at ')}`;
  };
}

function errorHeader(error: Error): string {
  try {
    return Error.prototype.toString.call(error);
  } catch {
    return '<error>';
  }
}

function frameText(frame: NodeJS.CallSite, isCompiled: (file: string) => boolean): string {
  const text = String(frame);
  const file = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!file || line === null || column === null || !isCompiled(file)) return text;
  const entry = mapOf(file)?.findEntry(line - 1, column - 1);
  if (!entry || !('originalSource' in entry) || typeof entry.originalSource !== 'string') return text;
  const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
  return text.replace(`${file}:${line}:${column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
}

const INLINE_MAP = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

function mapOf(file: string): SourceMap | undefined {
  if (maps.has(file)) return maps.get(file);
  let map: SourceMap | undefined;
  try {
    const url = file.startsWith('file:') ? file : pathToFileURL(file).href;
    const found = INLINE_MAP.exec(readFileSync(new URL(url), 'utf8'));
    if (found) {
      const payload = JSON.parse(Buffer.from(found[1]!, 'base64').toString('utf8')) as { sources: string[] };
      // As Node does: sources are relative to the module that names them.
      payload.sources = payload.sources.map((source) => new URL(source, url).href);
      map = new SourceMap(payload as ConstructorParameters<typeof SourceMap>[0]);
    }
  } catch {
    // A map that cannot be read leaves the compiled positions, as Node does.
  }
  maps.set(file, map);
  return map;
}
