/** A rank that mpiexec saw die. */
export interface RankDeath {
  /** Its rank (Open MPI names it; MPICH's Hydra names only its pid). */
  rank?: number;
  pid?: number;
  host: string;
  /** "signal 9 (Killed)" or "status 3". */
  how: string;
}

// Open MPI frames its reports in rules of dashes, MPICH's Hydra in rules of '='.
const BANNER_RULE = /^(-{20,}|={20,})\s*$/;
const DEATH = /process rank (\d+) with PID \d+ on node (\S+) exited on (signal \d+(?: \([^)]*\))?|status \d+)/;
// Hydra: "=   PID 27732 RUNNING AT vm", then "=   EXIT CODE: 9" (a signal's number when
// killed), and after the banner the exit string that says which ("Killed (signal 9)").
const HYDRA_PID = /^=\s+PID (\d+) RUNNING AT (\S+)/;
const HYDRA_EXIT = /^=\s+EXIT CODE: (\d+)/;
// After the banner: "YOUR APPLICATION TERMINATED WITH THE EXIT STRING: Killed (signal 9)".
const HYDRA_EXIT_STRING = /^YOUR APPLICATION TERMINATED WITH THE EXIT STRING: (.+)$/;
/**
 * Open MPI's internal complaints, and its event library's when mpiexec is ended by a signal
 * (an abort); MPICH's line for MPI_Abort and the lines Hydra prints after its banner.
 */
const LAUNCHER_NOISE =
  /ORTE_ERROR_LOG|PMIX ERROR|^\[warn\] Epoll |^Abort\(\d+\) on node \d+ \(rank \d+ in comm \d+\): application called MPI_Abort|^YOUR APPLICATION TERMINATED WITH THE EXIT STRING: |^This typically refers to a problem with your application\.$|^Please see the FAQ page for debugging suggestions$/;

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
  /** Empty lines held back until the line after them says whether they are shown. */
  private blanks = 0;
  private inBanner = false;
  private banner: string[] = [];

  constructor(private readonly passOn: (text: string) => void) {}

  write(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    const shown: string[] = [];
    for (const line of lines) {
      // Empty lines wait for the next line: before a banner (Hydra opens its own with two),
      // they go with it; before a line that is shown, they are shown too.
      if (line === '' && !this.inBanner) {
        this.blanks++;
        continue;
      }
      if (this.line(line)) {
        for (; this.blanks > 0; this.blanks--) shown.push('');
        shown.push(line);
      } else this.blanks = 0;
    }
    if (shown.length) this.passOn(`${shown.join('\n')}\n`);
  }

  /** What was left without a newline at the end. */
  flush(): void {
    const blanks = '\n'.repeat(this.blanks);
    this.blanks = 0;
    if (this.partial && this.line(this.partial)) this.passOn(`${blanks}${this.partial}\n`);
    else if (blanks) this.passOn(blanks);
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
      const pid = HYDRA_PID.exec(line);
      if (pid && !this.death) this.death = { pid: Number(pid[1]), host: pid[2], how: 'an unknown status' };
      const exit = HYDRA_EXIT.exec(line);
      if (exit && this.death?.pid !== undefined) this.death.how = `exit code ${exit[1]}`;
      if (line.trim()) this.banner.push(line.trim());
      return false;
    }
    const exitString = HYDRA_EXIT_STRING.exec(line);
    if (exitString && this.death?.pid !== undefined) this.death.how = exitString[1];
    return !LAUNCHER_NOISE.test(line);
  }
}
