import { WorkerError } from '@d4/core';
import { exitReason } from '@d4/runtime';
import type { JobContext } from './job-context.js';
import type { LocalWorkers, RedisLocalProcess } from './local-workers.js';
import { EXIT_REDIS_LOST, deathNotice, pendingEntries } from './notices.js';

/**
 * How the driver learns that workers joined and died, and says so: a local process that
 * exits (its exit status), any worker whose heartbeat key expired (killed elsewhere, frozen,
 * cut off). Each death goes into the job's Membership once, so that no wave of answers
 * waits for it, and is said on stderr (see notices.ts).
 */
export class WorkerDeaths {
  constructor(
    private readonly ctx: JobContext,
    /** Whether the stop wave has begun: a local process that exits 0 then has simply finished. */
    private readonly stopping: () => boolean,
    /** Whether every PE is done (no worker is needed any more). */
    private readonly allDone: () => boolean,
  ) {}

  /** A local worker process ended while the run goes on. */
  localExit(local: RedisLocalProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const { ctx } = this;
    for (const { consumer, units } of local.workers) {
      // A worker that reported its stats has simply finished.
      if (code === 0 && (ctx.members.hasLeft(consumer) || this.stopping())) continue;
      if (!ctx.stopped() && !ctx.members.isDead(consumer)) {
        const notice = () => this.notice({ consumer, pid: local.child.pid, units }, exitReason(code, signal, EXIT_REDIS_LOST, 'Redis'));
        // A worker that lost Redis: when the driver has lost it too, the driver says so once
        // (D4_REDIS_LOST); only a worker cut off alone is worth a notice of its own. A second
        // later, a server that was shutting down no longer answers the driver either.
        if (code === EXIT_REDIS_LOST) {
          setTimeout(() => {
            if (ctx.stopped()) return;
            ctx.redis.ping().then(
              () => !ctx.stopped() && notice(),
              () => {},
            );
          }, 1000).unref();
        } else notice();
      }
      // Its leases go at once, so that another worker takes over its units without waiting.
      const gone = [ctx.keys.alive(consumer), ...units.map((s) => ctx.keys.lease(s))];
      ctx.redis
        .eval(`for _, k in ipairs(KEYS) do if redis.call('GET', k) == ARGV[1] or string.find(k, ':hb:') then redis.call('DEL', k) end end return 0`, gone.length, ...gone, consumer)
        .catch(() => {});
      ctx.members.note({ type: 'died', member: consumer });
    }
  }

  /** Workers whose heartbeat expired are dead; a run with no worker left cannot end. */
  async check(locals: LocalWorkers): Promise<void> {
    const { ctx } = this;
    const registered = await ctx.redis.smembers(ctx.keys.workers);
    for (const m of registered) ctx.members.note({ type: 'joined', member: m });
    const members = registered.filter((m) => !ctx.members.isDead(m));
    const alive = members.length ? await ctx.redis.mget(...members.map((m) => ctx.keys.alive(m))) : [];
    members.forEach((m, i) => {
      // A worker that sent its report and left is done, not dead.
      if (alive[i] !== null || ctx.members.hasLeft(m)) return;
      this.notice({ consumer: m, units: [] }, 'stopped renewing its heartbeat (killed, frozen, or cut off from Redis)');
      ctx.members.note({ type: 'died', member: m });
    });
    const anyAlive = alive.some((v) => v !== null);
    if (!anyAlive && !locals.anyAlive && ctx.plan.localWorkers > 0 && !this.allDone()) {
      ctx.fail(new WorkerError(`every worker of job ${ctx.keys.job} has died and none is left to finish it; see the workers' messages above`, 'D4_REDIS_NO_WORKERS'));
    }
  }

  /** Says on stderr that a worker died and what becomes of its entries. */
  private notice(worker: { consumer: string; pid?: number; units: number[] }, reason: string): void {
    const { ctx } = this;
    if (ctx.options.quiet || ctx.stopped()) return;
    void pendingEntries(ctx.redis, ctx.keys, ctx.plan, worker.consumer)
      .then((pending) => {
        if (!ctx.stopped()) process.stderr.write(deathNotice(ctx.plan.mapping, worker, reason, pending, ctx.parsed.tuning.claimIdleMs));
      })
      .catch(() => {});
  }
}
