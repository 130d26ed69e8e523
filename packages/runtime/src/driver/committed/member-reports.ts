import { hostname } from 'node:os';
import type { PEStats } from '@d4/core';
import type { BatchFigures } from '../../worker/committed/committed-batches.js';

/** What a worker of an at-least-once job reports when the job stops: its batches' figures and where it ran. */
export interface MemberReport extends BatchFigures {
  /** The worker's name in the job (Redis: its consumer name in the job's groups). */
  consumer: string;
  rank: number;
  host: string;
  pid: number;
  pes: Record<string, PEStats>;
  /** ms from the worker's process start to joining the job (module loading, connecting). */
  startupMs: number;
  /** CPU time of the worker's process (user + system), in ms. */
  cpuMs: number;
}

/** The workers' part of a run's stats, by rank: each one's figures and calls per PE, the redelivered and duplicated items, the dead. */
export function memberStats(reports: readonly MemberReport[], dead: readonly string[]) {
  const workers = [...reports].sort((a, b) => a.rank - b.rank);
  return {
    workers: workers.map(({ consumer, rank, host, pid, items, entries, redelivered, duplicates, startupMs, cpuMs, pes }) => ({
      consumer,
      rank,
      host,
      pid,
      items,
      entries,
      redelivered,
      duplicates,
      startupMs,
      cpuMs,
      calls: Object.fromEntries(Object.entries(pes).map(([id, s]) => [id, s.calls])),
    })),
    redelivered: workers.reduce((n, w) => n + w.redelivered, 0),
    duplicates: workers.reduce((n, w) => n + w.duplicates, 0),
    deadWorkers: [...dead],
  };
}

/** A worker's final report: who it is, its PEs' figures and its batches', and its process's CPU time so far. */
export function memberReport(member: { consumer: string; rank: number; startupMs: number }, pes: Record<string, PEStats>, figures: BatchFigures): MemberReport {
  const cpu = process.cpuUsage();
  return { ...member, host: hostname(), pid: process.pid, ...figures, pes, cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}
