import { broadcast, type JobContext } from './job-context.js';

/**
 * Exact termination over Redis: a counter per PE holds its entries in flight (the commit
 * script moves it, and puts a 'z' event on the driver's stream when it reaches zero for a PE
 * the driver watches). A PE whose feeders are all done is closed as soon as nothing is in
 * flight for it: a close wave asks every worker to run its postprocess and waits for the
 * answers of the live ones (the job's Membership drops the dead). When every PE is done, the
 * stop wave asks the workers for their final reports. No step waits for idleness.
 */
export class Termination {
  /** Per PE index: closed (roots: once the driver has fed them, see roots.ts). */
  readonly done: boolean[];
  /** Resolves when every worker asked for its final report has sent it (or died). */
  readonly finished: Promise<void>;
  private finish!: () => void;
  private readonly watching = new Set<number>();
  private readonly closeStarted = new Set<number>();
  /** PEs whose close wave is out. */
  private readonly closing = new Set<number>();
  private stopStarted = false;

  constructor(
    private readonly ctx: JobContext,
    /** Resolves once every local worker has joined: a pinned PE is closed only then. */
    private readonly localsRegistered: () => Promise<void>,
  ) {
    this.done = ctx.plan.pes.map((p) => p.mode === 'root');
    this.finished = new Promise<void>((resolve) => (this.finish = resolve));
  }

  get allDone(): boolean {
    return this.done.every(Boolean);
  }

  /** The stop wave has begun. */
  get stopping(): boolean {
    return this.stopStarted;
  }

  /** After the roots: every PE may be ready to close. */
  async rootsDone(): Promise<void> {
    for (const p of this.ctx.plan.pes.keys()) if (this.ctx.plan.pes[p].mode !== 'root') await this.checkReady(p);
    if (this.allDone) await this.stop();
  }

  /** A PE's in-flight counter reached zero ('z'). */
  async zero(pe: number): Promise<void> {
    if (this.watching.has(pe) && !this.closing.has(pe) && !this.done[pe]) await this.startClose(pe);
  }

  /** A worker ran a PE's postprocess ('c'); it may be read before the close broadcast's own reply. */
  closed(consumer: string, pe: number): void {
    this.ctx.members.answer(closeWave(pe), consumer);
  }

  /** A worker sent its final report ('s'). */
  reported(consumer: string): void {
    this.ctx.members.answer(STOP_WAVE, consumer);
  }

  /** A PE whose feeders are all done is closed as soon as nothing is in flight for it. */
  private async checkReady(pe: number): Promise<void> {
    if (this.done[pe] || this.watching.has(pe)) return;
    if (!this.ctx.plan.pes[pe].preds.every((p) => this.done[p])) return;
    this.watching.add(pe);
    const inFlight = await this.ctx.scripts.watch([this.ctx.keys.counters], [pe]);
    if (inFlight === 0 && !this.closing.has(pe)) await this.startClose(pe);
  }

  private async startClose(pe: number): Promise<void> {
    // The zero event and checkReady may both see the PE ready: close it once.
    if (this.closeStarted.has(pe)) return;
    this.closeStarted.add(pe);
    if (this.ctx.plan.pes[pe].mode === 'pinned') await this.localsRegistered();
    const wave = this.ctx.members.wave(closeWave(pe), await broadcast(this.ctx, 'close', String(pe)));
    this.closing.add(pe);
    // Not awaited: the answers come through the driver's stream, which this must not block.
    wave.then(() => this.finishPE(pe)).catch((error: unknown) => this.ctx.fail(error));
  }

  private async finishPE(pe: number): Promise<void> {
    if (this.done[pe]) return;
    this.done[pe] = true;
    this.closing.delete(pe);
    for (const next of this.ctx.plan.pes[pe].succs) await this.checkReady(next);
    if (this.allDone) await this.stop();
  }

  private async stop(): Promise<void> {
    if (this.stopStarted) return;
    this.stopStarted = true;
    void this.ctx.members.wave(STOP_WAVE, await broadcast(this.ctx, 'stop', '1')).then(() => this.finish());
  }
}

const STOP_WAVE = 'stop';
const closeWave = (pe: number) => `close ${pe}`;
