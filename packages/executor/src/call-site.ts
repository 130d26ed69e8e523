import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceSite } from './protocol.js';

/**
 * Where the user's code called into the executor, and where a function sent by source was
 * written, both read from the caller's stack when the task is made (the stack is the only
 * place JavaScript tells where code comes from; under tsx it names the .ts file and its
 * lines through tsx's source maps).
 */

/**
 * This package's own code, whose frames are skipped: dist/ when installed, src/ in tests,
 * and src/ too when the stack is source-mapped (dist/ carries source maps, which tsx applies).
 */
const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OWN_DIRS = [join(PACKAGE_ROOT, 'src'), join(PACKAGE_ROOT, 'dist')].map((dir) => dir + sep);

/** `at fn (file:///x/y.ts:3:5)`, `at /x/y.ts:3:5`, `at async fn (/x/y.ts:3:5)`. */
const FRAME = /(?:\(|at )((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?$/;

export interface CallerFrame {
  /** An absolute path. */
  file: string;
  line: number;
  column: number;
}

/** The first frame of the stack that is neither this package, nor Node's internals. */
export function callerFrame(): CallerFrame | undefined {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    const match = FRAME.exec(line.trim());
    if (!match) continue;
    const [, location, lineNo, column] = match;
    if (location.startsWith('node:') || location.startsWith('internal/')) continue;
    let file: string;
    try {
      file = location.startsWith('file:') ? fileURLToPath(location) : location;
    } catch {
      continue;
    }
    if (!file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file)) continue; // eval, <anonymous>
    if (OWN_DIRS.some((dir) => file.startsWith(dir))) continue;
    return { file, line: Number(lineNo), column: Number(column) };
  }
  return undefined;
}

/**
 * Where a function sent by source was written: in the file that submits it, found by its
 * exact text (a plain JavaScript file: line and column are exact, and so is every line of
 * a stack inside it), else by its name (a transpiled TypeScript function, whose text is not
 * the file's: the line of its definition), else the line that submitted it (an inline
 * function, or one defined in another module).
 */
export function definitionSite(source: string, name: string): SourceSite | undefined {
  const caller = callerFrame();
  if (!caller) return undefined;
  let text: string;
  try {
    text = readFileSync(caller.file, 'utf8');
  } catch {
    return { file: caller.file, line: caller.line, column: caller.column, exact: false };
  }
  const at = text.indexOf(source);
  if (at >= 0 && text.indexOf(source, at + 1) < 0) return { file: caller.file, ...position(text, at), exact: true };
  const named = name && name !== 'anonymous' ? definitionByName(text, name) : -1;
  if (named >= 0) return { file: caller.file, ...position(text, named), exact: false };
  return { file: caller.file, line: caller.line, column: caller.column, exact: false };
}

/** Where the function named `name` starts in `text` (its `function`, `async` or `(`), or -1. */
function definitionByName(text: string, name: string): number {
  const n = name.replace(/[$]/g, '\\$');
  // [pattern, whether the function starts at the match's end (else at its first non-space)]
  const patterns: Array<[RegExp, boolean]> = [
    [new RegExp(`(?:async\\s+)?\\bfunction\\s*\\*?\\s*${n}\\s*[<(]`), false],
    [new RegExp(`\\b(?:const|let|var)\\s+${n}\\s*(?::[^=]+)?=\\s*(?=(?:async\\s*)?(?:function\\b|\\(|[\\w$]+\\s*=>))`), true],
    [new RegExp(`(?:^|[{,\\s])${n}\\s*:\\s*(?=(?:async\\s*)?(?:function\\b|\\())`, 'm'), true],
    [new RegExp(`^\\s*(?:async\\s+)?\\*?\\s*${n}\\s*\\([^)]*\\)\\s*(?::[^{]+)?\\{`, 'm'), false],
  ];
  for (const [pattern, atEnd] of patterns) {
    const match = pattern.exec(text);
    if (match) return atEnd ? match.index + match[0].length : match.index + (match[0].length - match[0].trimStart().length);
  }
  return -1;
}

function position(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  const column = index - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/**
 * A relative module path as the caller meant it: relative to the file that wrote it, not to
 * the working directory (which is wherever the program was started from).
 */
export function callerDirectory(): string | undefined {
  const caller = callerFrame();
  return caller ? dirname(caller.file) : undefined;
}
