import { CommanderError } from 'commander';
import type { CliStream } from './io.js';

/** The exit codes of `d4` (documented in the README). */
export const EXIT = {
  ok: 0,
  /** The run started and failed: a PE threw, a worker died, a server went away. */
  runFailed: 1,
  /** Refused before any work: bad arguments, options, JSON, files, workflow, mapping. */
  usage: 2,
  /** Interrupted (Ctrl-C / an abort signal): 128 + SIGINT, as shells expect. */
  interrupted: 130,
} as const;

/** A D4Error as seen across copies of @d4/core (a user's and the CLI's), so by shape. */
interface CodedError extends Error {
  code: string;
  peStack?: string;
}

function isCodedError(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && (error as CodedError).code.startsWith('D4_');
}

/**
 * Error codes that mean "refused before work": what the user typed, pointed at or
 * configured is wrong. Prefixes cover the families (D4_INPUT_JSON, D4_WORKFLOW_NO_GRAPH…).
 */
const BAD_INPUT_PREFIXES = ['D4_INPUT', 'D4_WORKFLOW', 'D4_GRAPH', 'D4_OPTION', 'D4_USAGE', 'D4_ARGS'];
const BAD_INPUT_CODES = new Set([
  'D4_UNKNOWN_MAPPING',
  'D4_MAPPING_NOT_INSTALLED',
  'D4_BAD_MAPPING_PACKAGE',
  'D4_STATEFUL_REFUSED',
  'D4_TOO_FEW_PROCESSES',
  'D4_NO_WORKER',
]);

export function exitCodeFor(error: unknown, aborted: boolean): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (aborted || (isCodedError(error) && error.code === 'D4_ABORTED')) return EXIT.interrupted;
  if (isCodedError(error) && (BAD_INPUT_CODES.has(error.code) || BAD_INPUT_PREFIXES.some((p) => error.code.startsWith(p)))) return EXIT.usage;
  return EXIT.runFailed;
}

/**
 * Prints an error the way a user should see it: `d4: <message> (<code>)`, no stack for
 * d4's own errors (the message says what to do), the PE's stack for a failing PE, and the
 * full stack only for what is not a D4Error (a bug worth reporting).
 */
export function reportError(error: unknown, stderr: CliStream, command?: string): void {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return; // --help / --version: already printed
    if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return; // help printed as the "error"
    const message = error.message.replace(/^error: /, '');
    stderr.write(`d4: ${message} (D4_USAGE)\n`);
    stderr.write(`see 'd4 ${command ? `${command} ` : ''}--help'\n`);
    return;
  }
  if (isCodedError(error)) {
    stderr.write(`d4: ${error.message} (${error.code})\n`);
    if (error.code === 'D4_PE_FAILED' && error.peStack) {
      stderr.write(`PE stack:\n${indent(error.peStack)}\n`);
    }
    return;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  stderr.write(`d4: unexpected error: ${err.message}\n${indent(err.stack ?? '')}\n`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
