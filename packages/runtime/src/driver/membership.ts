import type { MemberEvent } from '../transport.js';

/**
 * The workers of a run whose membership is open (at-least-once transports such as Redis):
 * workers join while it runs, also from other hosts, leave when they finish, and die
 * (killed, frozen, cut off). The driver waits for answers in waves (a close wave per PE,
 * the final stop), and a wave must not wait for a worker that died: its work goes to the
 * others, and so does the answer it owed.
 *
 * A fixed plan or a pool of known size needs none of this (its workers are the ones it
 * launched, and a death fails the run); its waves are counts.
 */
export class Membership {
  private readonly joinedSet = new Set<string>();
  private readonly deadSet = new Set<string>();
  private readonly leftSet = new Set<string>();
  private readonly waves = new Map<string, { waiting: Set<string>; resolve: () => void }>();
  /** Answers per wave name, also those that came before their wave started. */
  private readonly answers = new Map<string, Set<string>>();

  /** The members that died, in the order they did. */
  get dead(): readonly string[] {
    return [...this.deadSet];
  }

  /** Members that joined and have neither left nor died. */
  get live(): string[] {
    return [...this.joinedSet].filter((m) => !this.deadSet.has(m) && !this.leftSet.has(m));
  }

  isDead(member: string): boolean {
    return this.deadSet.has(member);
  }

  hasLeft(member: string): boolean {
    return this.leftSet.has(member);
  }

  /**
   * Applies what the transport saw. Returns false for an event that changes nothing (a death
   * seen twice, by two watchers; a member that left and is then seen gone): the caller says
   * a death once.
   */
  note(event: MemberEvent): boolean {
    const { member } = event;
    switch (event.type) {
      case 'joined':
        if (this.joinedSet.has(member) || this.deadSet.has(member)) return false;
        this.joinedSet.add(member);
        return true;
      case 'left':
        if (this.leftSet.has(member) || this.deadSet.has(member)) return false;
        this.leftSet.add(member);
        this.release(member);
        return true;
      case 'died':
        if (this.deadSet.has(member) || this.leftSet.has(member)) return false;
        this.deadSet.add(member);
        this.release(member);
        return true;
    }
  }

  /**
   * Waits for an answer to the wave `name` from each of `members` (those a message was sent
   * to) that has not answered, died or left already; an empty wave is done at once. An
   * answer may come before the wave starts: when answers travel on another connection than
   * the request's own reply (Redis: the driver's stream against the BROADCAST reply), a
   * busy driver can read them in either order.
   */
  wave(name: string, members: Iterable<string>): Promise<void> {
    const answered = this.answers.get(name);
    const waiting = new Set([...members].filter((m) => !this.deadSet.has(m) && !this.leftSet.has(m) && !answered?.has(m)));
    if (waiting.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.waves.set(name, { waiting, resolve }));
  }

  /** A member's answer to the wave `name`, started or not (a second one changes nothing). */
  answer(name: string, member: string): void {
    let answered = this.answers.get(name);
    if (!answered) this.answers.set(name, (answered = new Set()));
    answered.add(member);
    const wave = this.waves.get(name);
    if (wave?.waiting.delete(member) && wave.waiting.size === 0) {
      this.waves.delete(name);
      wave.resolve();
    }
  }

  /** Members a started wave still waits for (0 when it is done or was never started). */
  waiting(name: string): number {
    return this.waves.get(name)?.waiting.size ?? 0;
  }

  /** A member gone: no wave waits for it any more. */
  private release(member: string): void {
    for (const [name, wave] of [...this.waves]) {
      if (wave.waiting.delete(member) && wave.waiting.size === 0) {
        this.waves.delete(name);
        wave.resolve();
      }
    }
  }
}
