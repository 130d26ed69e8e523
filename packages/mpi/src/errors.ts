import { D4Error, type D4ErrorCode } from '@d4/core';

/** An error from @d4/mpi. `mpiErrorClass` is MPI's error class when MPI itself failed. */
export class MpiError extends D4Error {
  readonly mpiErrorClass: number | undefined;
  constructor(code: D4ErrorCode, message: string, options?: { cause?: unknown; mpiErrorClass?: number }) {
    super(code, message, options);
    this.mpiErrorClass = options?.mpiErrorClass || undefined;
  }
}

/** The factory the addon calls to reject or throw, so that its errors are D4Errors too. */
export function makeAddonError(code: string, message: string, mpiErrorClass: number): MpiError {
  return new MpiError(code as D4ErrorCode, `MPI: ${message}`, { mpiErrorClass });
}
