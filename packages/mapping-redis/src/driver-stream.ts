import type { JobContext } from './job-context.js';

/**
 * Reads the driver's stream (results, logs, progress, zero counters, close answers, final
 * reports, errors, takeovers) on its own connection, in order, and trims what was read every
 * 256 entries. Each field goes to `handle` and is awaited before the next.
 */
export async function readDriverStream(ctx: JobContext, handle: (field: string, value: Buffer) => Promise<void> | void): Promise<void> {
  let lastId = '0';
  let sinceTrim = 0;
  try {
    while (!ctx.stopped()) {
      const reply = (await ctx.reader.xreadBuffer('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', ctx.keys.driver, lastId)) as [Buffer, [Buffer, Buffer[]][]][] | null;
      if (!reply) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          lastId = id.toString();
          for (let i = 0; i < fields.length; i += 2) await handle(fields[i].toString(), fields[i + 1]);
          sinceTrim++;
        }
      }
      if (sinceTrim >= 256) {
        sinceTrim = 0;
        await ctx.redis.xtrim(ctx.keys.driver, 'MINID', lastId);
      }
    }
  } catch (error) {
    if (!ctx.stopped()) ctx.fail(error);
  }
}
