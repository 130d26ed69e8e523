import { CommanderError } from 'commander';
import { ERROR_CODES, isD4ErrorCode, type ExitKind } from '@d4/core';
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

/**
 * The number for each kind of failure in core's ERROR_CODES. A Record, so that a kind
 * added to ExitKind without a number here does not compile.
 */
export const EXIT_FOR_KIND: Record<ExitKind, number> = {
  usage: EXIT.usage,
  runFailed: EXIT.runFailed,
  interrupted: EXIT.interrupted,
};

/** A D4Error as seen across copies of @d4/core (a user's and the CLI's), so by shape. */
interface CodedError extends Error {
  code: string;
  peStack?: string;
}

function isCodedError(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && (error as CodedError).code.startsWith('D4_');
}

/**
 * The exit code for an error, read from core's table of codes. A code this copy of core
 * does not know (a backend bundling another version) counts as a failed run.
 */
export function exitCodeFor(error: unknown, aborted: boolean): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (aborted) return EXIT.interrupted;
  if (isCodedError(error) && isD4ErrorCode(error.code)) return EXIT_FOR_KIND[ERROR_CODES[error.code].exit];
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
