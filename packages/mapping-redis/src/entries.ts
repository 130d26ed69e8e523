import { decode } from '@d4/core';
import type { InputEntry } from '@d4/runtime';
import { SHARED_KEY, unitKey, type EntryAck } from './outbox.js';

/** A stream entry as a worker reads it: `fields` is null for an entry deleted while pending. */
export interface DataEntry {
  /** 1-based position of its stream in the commit's KEYS (outbox.ts). */
  keyIndex: number;
  key: string;
  id: string;
  fields: Buffer[] | null;
}

/** What XREADGROUP answers, read as buffers. */
export type StreamReply = [Buffer, [Buffer, Buffer[] | null][]][] | null;

/** An entry's target (`<pe index>:<port>`, field 't') and payload (field 'd': one encoded array of values). */
export function entryParts(fields: Buffer[]): { peIndex: number; port: string; payload: Buffer | undefined } {
  let target = '';
  let payload: Buffer | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toString();
    if (name === 't') target = fields[i + 1].toString();
    else if (name === 'd') payload = fields[i + 1];
  }
  const colon = target.indexOf(':');
  return { peIndex: Number(target.slice(0, colon)), port: target.slice(colon + 1), payload };
}

/** Items in an entry (its payload is one encoded array). */
export function itemCount(fields: Buffer[]): number {
  const { payload } = entryParts(fields);
  return payload ? decode<unknown[]>(payload).length : 0;
}

/** An entry as the runtime's committed batches run it; undefined for one deleted while pending (nothing to run). */
export function inputEntry(entry: DataEntry): InputEntry<EntryAck> | undefined {
  if (!entry.fields) return undefined;
  const { peIndex, port, payload } = entryParts(entry.fields);
  const unit = entry.keyIndex === SHARED_KEY ? undefined : entry.keyIndex - unitKey(0);
  return { unit, peIndex, port, payload: payload!, ack: { keyIndex: entry.keyIndex, pe: peIndex, id: entry.id } };
}

/** The entries of a batch that have something to run. */
export function inputEntries(entries: readonly DataEntry[]): InputEntry<EntryAck>[] {
  const out: InputEntry<EntryAck>[] = [];
  for (const entry of entries) {
    const input = inputEntry(entry);
    if (input) out.push(input);
  }
  return out;
}
