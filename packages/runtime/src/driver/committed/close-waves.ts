import type { PlacementPlan } from '../../plans/placement.js';
import type { Membership } from '../membership.js';

/** What the close waves need of an at-least-once transport's driver. */
export interface CloseWaveLink {
  /**
   * Starts watching a PE's inputs in flight (the transport calls `CloseWaves.zero` when they
   * reach zero from then on) and resolves to their number now.
   */
  watch(peIndex: number): Promise<number>;
  /** Sends a command to every registered worker; resolves to the members it reached. */
  broadcast(command: 'close' | 'stop', value: string): Promise<string[]>;
  /** Resolves once every local worker has joined: a pinned PE is closed only then. */
  localsJoined(): Promise<void>;
  fail(error: unknown): void;
}

/**
 * Exact termination of an at-least-once job, whose inputs live in the transport and can
 * move between workers mid-run (so no end of stream can be counted per link): a counter per
 * PE holds its inputs in flight (moved by the commits). A PE whose feeders are all done is
 * closed as soon as nothing is in flight for it: a close wave asks every worker to run its
 * postprocess and waits for the answers of the live ones (the Membership drops the dead).
 * When every PE is done, the stop wave asks the workers for their final reports. No step
 * waits for idleness.
 */
export class CloseWaves {
  /** Per PE index: closed (roots: once the driver has fed them). */
  readonly done: boolean[];
  /** Resolves when every worker asked for its final report has sent it (or died). */
  readonly finished: Promise<void>;
  private finish!: () => void;
  private readonly watching = new Set<number>();
  /** PEs whose close wave is out or done. */
  private readonly closeStarted = new Set<number>();
  private stopStarted = false;

  constructor(
    private readonly plan: PlacementPlan,
    private readonly members: Membership,
    private readonly link: CloseWaveLink,
  ) {
    this.done = plan.pes.map((p) => p.mode === 'root');
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
    for (const [p, pe] of this.plan.pes.entries()) if (pe.mode !== 'root') await this.checkReady(p);
    if (this.allDone) await this.stop();
  }

  /** A PE's in-flight counter reached zero. */
  async zero(pe: number): Promise<void> {
    if (this.watching.has(pe) && !this.done[pe]) await this.startClose(pe);
  }

  /** A worker ran a PE's postprocess; it may be read before the close broadcast's own reply. */
  closed(member: string, pe: number): void {
    this.members.answer(closeWave(pe), member);
  }

  /** A worker sent its final report. */
  reported(member: string): void {
    this.members.answer(STOP_WAVE, member);
  }

  private async checkReady(pe: number): Promise<void> {
    if (this.done[pe] || this.watching.has(pe)) return;
    if (!this.plan.pes[pe].preds.every((p) => this.done[p])) return;
    this.watching.add(pe);
    const inFlight = await this.link.watch(pe);
    if (inFlight === 0) await this.startClose(pe);
  }

  private async startClose(pe: number): Promise<void> {
    // The zero event and checkReady may both see the PE ready: close it once.
    if (this.closeStarted.has(pe)) return;
    this.closeStarted.add(pe);
    if (this.plan.pes[pe].mode === 'pinned') await this.link.localsJoined();
    const wave = this.members.wave(closeWave(pe), await this.link.broadcast('close', String(pe)));
    // Not awaited: the answers come through the transport's reports, which this must not block.
    wave.then(() => this.finishPE(pe)).catch((error: unknown) => this.link.fail(error));
  }

  private async finishPE(pe: number): Promise<void> {
    if (this.done[pe]) return;
    this.done[pe] = true;
    for (const next of this.plan.pes[pe].succs) await this.checkReady(next);
    if (this.allDone) await this.stop();
  }

  private async stop(): Promise<void> {
    if (this.stopStarted) return;
    this.stopStarted = true;
    void this.members.wave(STOP_WAVE, await this.link.broadcast('stop', '1')).then(() => this.finish());
  }
}

const STOP_WAVE = 'stop';
const closeWave = (pe: number) => `close ${pe}`;
