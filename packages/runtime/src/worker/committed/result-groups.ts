import { CodecError, encode, encodeBatch, type ValueOrigin } from '@d4/core';
import { OutputCollector, portKey } from '@d4/core/internal';

/**
 * What an at-least-once worker sends inside its commits, in payloads of a bounded size: the
 * values of one destination as one codec array (split when it would pass the transport's
 * largest entry), and the results for the driver grouped per PE and port.
 */

/**
 * Results gathered for the driver until the next commit, instead of kept (workers have no
 * result to return), grouped per PE and port: `[peId, port, values]`.
 */
export class ResultGroups extends OutputCollector {
  groups = new Map<string, [string, string, unknown[]]>();
  size = 0;
  /** The group of the previous value: a sink writes many values in a row. */
  private last: [string, string, unknown[]] | undefined;

  override add(peId: string, port: string, value: unknown): void {
    let group = this.last;
    if (!group || group[0] !== peId || group[1] !== port || this.size === 0) {
      const key = portKey(peId, port);
      group = this.groups.get(key);
      if (!group) this.groups.set(key, (group = [peId, port, []]));
      this.last = group;
    }
    group[2].push(value);
    this.size++;
  }

  /** The groups as payloads of `[[peId, port, values]…]`, none above `maxBytes` (unless one value is), and empties the buffer. */
  take(maxBytes: number): Buffer[] {
    const payloads = encodeGroups([...this.groups.values()], maxBytes);
    this.groups.clear();
    this.size = 0;
    return payloads;
  }
}

/** Groups as payloads of at most `maxBytes` each: one when they fit, else split per group and halved. */
function encodeGroups(groups: [string, string, unknown[]][], maxBytes: number): Buffer[] {
  let whole: Buffer;
  try {
    whole = encode(groups);
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    // The batch encoder names the PE and port of the value the codec cannot carry.
    for (const [peId, port, values] of groups) encodeBatch(values, () => ({ peId, port }));
    throw error;
  }
  if (whole.length <= maxBytes) return [whole];
  const out: Buffer[] = [];
  const split = (peId: string, port: string, values: unknown[]): void => {
    const payload = encode([[peId, port, values]]);
    if (payload.length <= maxBytes || values.length === 1) out.push(payload);
    else {
      const middle = values.length >> 1;
      split(peId, port, values.slice(0, middle));
      split(peId, port, values.slice(middle));
    }
  };
  for (const [peId, port, values] of groups) split(peId, port, values);
  return out;
}

/** values[start, end) as one codec array, or several when it would be larger than `maxBytes` (halved until each fits or holds one value). */
export function cappedBatches(values: unknown[], origins: ValueOrigin[], start: number, end: number, maxBytes: number): Buffer[] {
  const chunk = start === 0 && end === values.length ? values : values.slice(start, end);
  const payload = encodeBatch(chunk, (i) => origins[start + i]);
  if (payload.length <= maxBytes || end - start === 1) return [payload];
  const middle = start + ((end - start) >> 1);
  return [...cappedBatches(values, origins, start, middle, maxBytes), ...cappedBatches(values, origins, middle, end, maxBytes)];
}
