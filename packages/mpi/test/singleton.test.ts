import { describe, expect, test } from '@jest/globals';
import { ofRank, runMpi } from './mpiexec.js';

describe('a process started without mpiexec', () => {
  test('is a world of size 1 that sends to itself, and misuse fails with D4Errors that say what to do', async () => {
    const run = await runMpi('singleton', 0);
    expect(run.status).toBe(0);
    const r = ofRank(run, 0);
    expect(r.size).toBe(1);
    expect(r.same).toBe(true);
    expect(r.versionStartsWith).toBe('Open');
    expect(r.self).toEqual([{ to: 'myself' }, 0, 4]);
    expect(r.sum).toBe(21);
    expect(r.initializedAfterFinalize).toBe(false);
    expect(r.processorNameIsHost).toBe(true);
    expect(r.early).toEqual(['D4_MPI_NOT_INITIALIZED', 'MPI is not initialized: `await MPI.init()` before using MPI.COMM_WORLD or MPI.processorName']);
    expect(r.earlySend).toEqual(r.early);
    expect(r.badDest).toEqual(['D4_MPI_ARGUMENT', 'COMM_WORLD.send(value, dest, tag): dest 1 is not a rank of COMM_WORLD; give a whole number from 0 to 0 (the world has 1 rank)']);
    expect(r.badTag).toEqual(['D4_MPI_ARGUMENT', 'COMM_WORLD.send(value, dest, tag): tag -1 is not a valid MPI tag; give a whole number from 0 to 2147483647']);
    expect(r.badSource).toEqual(['D4_MPI_ARGUMENT', 'COMM_WORLD.recv({ source, tag }): source 2.5 is not a rank of COMM_WORLD; give a whole number from 0 to 0 (the world has 1 rank)']);
    expect(r.badBytes).toEqual(['D4_MPI_ARGUMENT', 'COMM_WORLD.sendBytes(bytes, dest, tag): expected a Uint8Array (or a Buffer or another typed array), got string; use send() for other values']);
    expect(r.badOp).toEqual(['D4_MPI_ARGUMENT', "COMM_WORLD.allreduce(value, op): op 'mean' is not one of 'sum', 'min', 'max', 'prod'"]);
    expect((r.badReduce as string[])[0]).toBe('D4_MPI_ARGUMENT');
    expect((r.badReduce as string[])[1]).toMatch(/^COMM_WORLD\.allreduce\(value, op\): cannot reduce a string; give a number, a bigint or a typed array/);
    expect(r.pending).toEqual(['D4_MPI_FINALIZED', 'MPI: a receive (source any, tag 99) was still waiting when MPI.finalize() was called; await every recv() before finalize()']);
    expect(r.late).toEqual(['D4_MPI_FINALIZED', 'MPI.COMM_WORLD after MPI.finalize(): MPI cannot be initialized again in this process; finalize once, at the end']);
    expect(r.lateInit).toEqual(['D4_MPI_FINALIZED', 'MPI.init() after MPI.finalize(): MPI cannot be initialized again in this process; finalize once, at the end']);
  });
});
