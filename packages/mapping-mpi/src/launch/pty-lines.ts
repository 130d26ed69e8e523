/**
 * The ranks' stdout as it should reach the caller's: under mpiexec each rank's stdout is a
 * pty, whose line discipline turns every "\n" into "\r\n" on the way out. A "\r" at the
 * end of a chunk is held until the next one shows whether a "\n" follows.
 */
export function ptyNewlines(write: (text: string) => void): { write(chunk: string): void; flush(): void } {
  let held = '';
  return {
    write(chunk: string) {
      let text = held + chunk;
      held = '';
      if (text.endsWith('\r')) {
        held = '\r';
        text = text.slice(0, -1);
      }
      if (text) write(text.replace(/\r\n/g, '\n'));
    },
    flush() {
      if (held) write(held);
      held = '';
    },
  };
}
