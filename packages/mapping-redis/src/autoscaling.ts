import { ScalingRecord, idleTimeRule, type WorkerIdleness } from '@d4/runtime';
import { broadcast, type JobContext } from './job-context.js';

/**
 * dyn_auto_redis: the runtime's idle-time rule on what the workers' heartbeats say (each
 * heartbeat key holds "rank:ms since the worker's last item"): one fewer active worker while
 * one idles above -thr, one more otherwise. The new count goes to the counters hash (read by
 * joining workers) and to every worker's control stream.
 */
export class Autoscaler {
  private active: number;
  readonly record: ScalingRecord;

  constructor(
    private readonly ctx: JobContext,
    startedAt: number,
    /** The stop wave has begun: the pool no longer changes. */
    private readonly stopping: () => boolean,
  ) {
    this.active = ctx.plan.localWorkers;
    this.record = new ScalingRecord(this.active, () => performance.now(), { cap: 1000, startedAt });
  }

  async tick(): Promise<void> {
    const { ctx } = this;
    if (this.stopping()) return;
    const members = (await ctx.redis.smembers(ctx.keys.workers)).filter((m) => !ctx.members.isDead(m));
    if (members.length === 0) return;
    const values = await ctx.redis.mget(...members.map((m) => ctx.keys.alive(m)));
    const workers: WorkerIdleness[] = [];
    for (const v of values) {
      const colon = v?.indexOf(':') ?? -1;
      if (v !== null && colon >= 0) workers.push({ rank: Number(v.slice(0, colon)), idleMs: Number(v.slice(colon + 1)) });
    }
    const next = idleTimeRule(this.active, workers, { idleThreshold: ctx.parsed.tuning.idleThreshold, max: Math.max(ctx.plan.localWorkers, members.length) });
    if (next === this.active) return;
    this.active = next;
    this.record.note(next);
    if (ctx.options.verbose) process.stderr.write(`d4 dyn_auto_redis: ${next} active worker${next === 1 ? '' : 's'}\n`);
    await ctx.redis.hset(ctx.keys.counters, 'active', next);
    await broadcast(ctx, 'active', String(next));
  }
}
