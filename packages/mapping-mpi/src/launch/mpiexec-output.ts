/** A rank that mpiexec saw die. */
export interface RankDeath {
  rank: number;
  host: string;
  /** "signal 9 (Killed)" or "status 3". */
  how: string;
}

const BANNER_RULE = /^-{20,}\s*$/;
const DEATH = /process rank (\d+) with PID \d+ on node (\S+) exited on (signal \d+(?: \([^)]*\))?|status \d+)/;
/** Open MPI's internal complaints, and its event library's when mpiexec is ended by a signal (an abort). */
const LAUNCHER_NOISE = /ORTE_ERROR_LOG|PMIX ERROR|^\[warn\] Epoll /;

/**
 * mpiexec's stderr as a user should see it: the ranks' own lines pass through whole, while
 * Open MPI's framed banners (between rules of dashes: a rank died, the job was aborted, not
 * enough slots) are held back, since d4 reports the failure itself in one line, and kept
 * for that report.
 */
export class MpiexecOutput {
  /** The banners' text, for the error when mpiexec ends without a result. */
  readonly notes: string[] = [];
  death: RankDeath | undefined;
  private partial = '';
  private inBanner = false;
  private banner: string[] = [];

  constructor(private readonly passOn: (text: string) => void) {}

  write(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    const shown: string[] = [];
    for (const line of lines) if (this.line(line)) shown.push(line);
    if (shown.length) this.passOn(`${shown.join('\n')}\n`);
  }

  /** What was left without a newline at the end. */
  flush(): void {
    if (this.partial && this.line(this.partial)) this.passOn(`${this.partial}\n`);
    this.partial = '';
    if (this.banner.length) this.notes.push(this.banner.join(' '));
    this.banner = [];
  }

  /** Whether the line is shown. */
  private line(line: string): boolean {
    if (BANNER_RULE.test(line)) {
      if (this.inBanner && this.banner.length) this.notes.push(this.banner.join(' '));
      this.banner = [];
      this.inBanner = !this.inBanner;
      return false;
    }
    if (this.inBanner) {
      const death = DEATH.exec(line);
      if (death && !this.death) this.death = { rank: Number(death[1]), host: death[2], how: death[3] };
      if (line.trim()) this.banner.push(line.trim());
      return false;
    }
    return !LAUNCHER_NOISE.test(line);
  }
}
