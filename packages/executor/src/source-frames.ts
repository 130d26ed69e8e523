import { findSourceMap, type SourceMap } from 'node:module';
import { pathToFileURL } from 'node:url';
import { placedLine, type SourceSite } from './protocol.js';

/**
 * For a function sent by source whose text is not its file's (TypeScript through tsx, whose
 * output is one line): the worker's frames inside it count lines and columns in that text.
 * Where the caller's module has a source map (tsx's, which Node keeps), the frames are taken
 * back to the original file's line and column, so that `at checkLimit (job.ts:5:38)` (the
 * definition line, a column of the transpiled text) becomes `at checkLimit (job.ts:8:11)`.
 */
export function sourceFrameMapper(site: SourceSite, shipped: string, raw: string): ((stack: string) => string) | undefined {
  if (site.exact) return undefined;
  let map: SourceMap | undefined;
  try {
    map = findSourceMap(site.file) ?? findSourceMap(pathToFileURL(site.file).href);
  } catch {
    return undefined;
  }
  if (!map) return undefined;
  const start = generatedStart(map, site);
  if (!start) return undefined;
  // The worker runs `shipped`; a method's source is shipped with `function ` added in front.
  const added = shipped.length - raw.length;
  const file = site.file;
  const frame = new RegExp(`${escapeRegExp(file)}:(\\d+):(\\d+)`, 'g');
  return (stack) =>
    stack.replace(frame, (whole, lineText: string, columnText: string) => {
      const k = Number(lineText) - placedLine(site);
      if (k < 0) return whole;
      const column = Number(columnText) - 1 - (k === 0 ? added : 0);
      const entry = map.findEntry(start.line + k, k === 0 ? start.column + column : column) as { originalLine?: number; originalColumn?: number };
      if (entry.originalLine === undefined || entry.originalColumn === undefined) return whole;
      return `${file}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    });
}

/** The generated position (0-based) of the segment that maps to the function's definition in the original. */
function generatedStart(map: SourceMap, site: SourceSite): { line: number; column: number } | undefined {
  const wantLine = site.line - 1;
  const wantColumn = site.column - 1;
  let best: { line: number; column: number; distance: number } | undefined;
  for (const segment of decodeMappings(map.payload.mappings)) {
    if (segment.originalLine !== wantLine || segment.originalColumn < wantColumn) continue;
    const distance = segment.originalColumn - wantColumn;
    if (!best || distance < best.distance) best = { line: segment.line, column: segment.column, distance };
    if (distance === 0) break;
  }
  return best && { line: best.line, column: best.column };
}

interface Segment {
  line: number;
  column: number;
  originalLine: number;
  originalColumn: number;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Source map v3 `mappings` (base64 VLQ): every segment with a source position. */
function* decodeMappings(mappings: string): Generator<Segment> {
  let line = 0;
  let column = 0;
  let originalLine = 0;
  let originalColumn = 0;
  let i = 0;
  const fields: number[] = [];
  while (i < mappings.length) {
    const c = mappings[i];
    if (c === ';') {
      line++;
      column = 0;
      i++;
      continue;
    }
    if (c === ',') {
      i++;
      continue;
    }
    fields.length = 0;
    while (i < mappings.length && mappings[i] !== ',' && mappings[i] !== ';') {
      let value = 0;
      let shift = 0;
      let digit: number;
      do {
        digit = BASE64.indexOf(mappings[i++]);
        value += (digit & 31) << shift;
        shift += 5;
      } while (digit & 32);
      fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
    }
    column += fields[0];
    if (fields.length >= 4) {
      originalLine += fields[2];
      originalColumn += fields[3];
      yield { line, column, originalLine, originalColumn };
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
