import type { Redis } from 'ioredis';

/**
 * Lua scripts, so that each step that must be atomic is one round trip. Every script first
 * checks that the job's metadata key still exists: once the driver has ended a job (and
 * deleted its keys), a late write from a worker cannot re-create a key.
 */

/**
 * Commits one batch: writes its outputs, results, logs and replies, acknowledges (and
 * deletes) its input entries, and moves the in-flight counters. Outputs are counted before
 * inputs are released, so a counter reaches zero only when nothing is left downstream.
 * KEYS: meta, counters, driver stream, fence (the worker's heartbeat key), data streams…
 * ARGV: group, check the fence (1/0), nOut, (keyIndex, destPE, target, payload)×nOut, nDriver, (field, value)×nDriver,
 *       nAck, (keyIndex, pe, nIds, ids…)×nAck
 * Returns {entries in flight, positions (1-based, over all acknowledged ids) of entries that
 * someone else acknowledged first: what this batch wrote for them is a second copy}; {-1}
 * when the job is over; {-2} when the worker's heartbeat has expired: the job has taken it for
 * dead (its entries may be another worker's now), so its batch must not be written.
 */
const COMMIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[4]) == 0 then return {-2} end
local group = ARGV[1]
local i = 3
local nOut = tonumber(ARGV[i]); i = i + 1
for k = 1, nOut do
  redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', 't', ARGV[i + 2], 'd', ARGV[i + 3])
  redis.call('HINCRBY', KEYS[2], ARGV[i + 1], 1)
  i = i + 4
end
if nOut > 0 then redis.call('HINCRBY', KEYS[2], 'all', nOut) end
local nDriver = tonumber(ARGV[i]); i = i + 1
for k = 1, nDriver do
  redis.call('XADD', KEYS[3], '*', ARGV[i], ARGV[i + 1])
  i = i + 2
end
local nAck = tonumber(ARGV[i]); i = i + 1
local result = {0}
local position = 0
for k = 1, nAck do
  local key = KEYS[tonumber(ARGV[i])]
  local pe = ARGV[i + 1]
  local n = tonumber(ARGV[i + 2])
  local acked = 0
  for j = 1, n do
    position = position + 1
    local id = ARGV[i + 2 + j]
    if redis.call('XACK', key, group, id) == 1 then acked = acked + 1
    else result[#result + 1] = position end
    redis.call('XDEL', key, id)
  end
  i = i + 3 + n
  if acked > 0 then
    redis.call('HINCRBY', KEYS[2], 'all', -acked)
    local left = redis.call('HINCRBY', KEYS[2], pe, -acked)
    if left == 0 and redis.call('HEXISTS', KEYS[2], 'w' .. pe) == 1 then
      redis.call('XADD', KEYS[3], '*', 'z', pe)
    end
  end
end
result[1] = tonumber(redis.call('HGET', KEYS[2], 'all') or '0')
return result
`;

/**
 * A worker joins: its control stream and group, its name in the worker set, its heartbeat
 * and its rank (given for local workers, else the next free one).
 * KEYS: meta, workers, control stream, alive key, rank counter. ARGV: consumer, group, aliveMs, rank|''.
 */
const REGISTER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('XGROUP', 'CREATE', KEYS[3], ARGV[2], '$', 'MKSTREAM')
redis.call('SADD', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
redis.call('SET', KEYS[4], '0', 'PX', ARGV[3])
if ARGV[4] ~= '' then return tonumber(ARGV[4]) end
return redis.call('INCR', KEYS[5])
`;

/**
 * Heartbeat, sent by a worker process's heartbeat thread (see liveness.ts), so that it goes on
 * while a PE keeps the worker's own thread busy: renews the worker's alive key (its value:
 * "rank:ms since its last item"), the leases it holds, and the idle time of every entry
 * pending for it on the streams it reads (XCLAIM to itself, JUSTID: the delivery count stays)
 * — the batch it is running and what it has read but not started, which a busy process may
 * hold for long — and passes on the process's progress counts. The alive key is checked first
 * and a unit stream is refreshed only while its lease is the worker's, in the same call: a
 * worker whose key expired (its process was frozen) cannot take back entries that were
 * claimed from it, and a live one refreshes its entries at least every aliveMs / 5, so they
 * never reach the claim time (2 × aliveMs by default) while it lives.
 * KEYS: meta, driver alive key, alive key, driver stream, (lease, unit stream)… (nLeases
 * pairs), then the shared stream when the worker reads it.
 * ARGV: consumer, aliveMs, idle value, group, nLeases, progress (JSON, or '').
 * Returns 1-based positions of leases it no longer holds, {-1} when the job is over, {-2}
 * when its driver is gone, {-3} when its own heartbeat had expired (it was taken for dead:
 * it must not come back).
 */
const HEARTBEAT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {-2} end
if redis.call('EXISTS', KEYS[3]) == 0 then return {-3} end
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[2])
local function refresh(stream)
  local pending = redis.call('XPENDING', stream, ARGV[4], '-', '+', 1000, ARGV[1])
  if #pending == 0 then return end
  local args = {'XCLAIM', stream, ARGV[4], ARGV[1], 0}
  for _, entry in ipairs(pending) do args[#args + 1] = entry[1] end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
end
local nLeases = tonumber(ARGV[5])
local lost = {}
for k = 1, nLeases do
  local lease = KEYS[3 + 2 * k]
  if redis.call('GET', lease) == ARGV[1] then
    redis.call('PEXPIRE', lease, ARGV[2])
    refresh(KEYS[4 + 2 * k])
  else lost[#lost + 1] = k end
end
if #KEYS > 4 + 2 * nLeases then refresh(KEYS[#KEYS]) end
if ARGV[6] ~= '' then redis.call('XADD', KEYS[4], '*', 'p', ARGV[6]) end
return lost
`;

/** Takes a free lease. KEYS: meta, lease. ARGV: consumer, ms. */
const TAKE_LEASE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;

/**
 * Sends one control message to every registered worker and returns who got it.
 * KEYS: meta, workers. ARGV: control key prefix, field, value.
 */
const BROADCAST = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local members = redis.call('SMEMBERS', KEYS[2])
for _, m in ipairs(members) do
  redis.call('XADD', ARGV[1] .. m, '*', ARGV[2], ARGV[3])
end
return members
`;

/** Sets a PE's watch flag and returns its in-flight count. KEYS: counters. ARGV: pe. */
const WATCH = `
redis.call('HSET', KEYS[1], 'w' .. ARGV[1], '1')
return tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
`;

export interface Scripts {
  commit(keys: string[], args: (string | Uint8Array | number)[]): Promise<number[]>;
  register(keys: string[], args: (string | number)[]): Promise<number>;
  heartbeat(keys: string[], args: (string | number)[]): Promise<number[]>;
  takeLease(keys: string[], args: (string | number)[]): Promise<number>;
  broadcast(keys: string[], args: (string | Buffer)[]): Promise<string[]>;
  watch(keys: string[], args: (string | number)[]): Promise<number>;
}

/**
 * The COMMIT call that only puts one entry on the driver's stream (a worker's error report,
 * from its main thread or its heartbeat thread): nothing written downstream, no fence,
 * nothing acknowledged.
 */
export function driverEntryCall(keys: { meta: string; counters: string; driver: string }, group: string, field: string, value: Buffer): { keys: string[]; args: (string | number | Buffer)[] } {
  return { keys: [keys.meta, keys.counters, keys.driver, keys.meta], args: [group, 0, 0, 1, field, value, 0] };
}

/** The scripts' sources, for a client other than ioredis (the heartbeat thread's, resp-client.ts). */
export const LUA = { commit: COMMIT, register: REGISTER, heartbeat: HEARTBEAT, takeLease: TAKE_LEASE, broadcast: BROADCAST, watch: WATCH } as const;

export function defineScripts(redis: Redis): Scripts {
  const table = { d4commit: COMMIT, d4register: REGISTER, d4heartbeat: HEARTBEAT, d4takelease: TAKE_LEASE, d4broadcast: BROADCAST, d4watch: WATCH };
  for (const [name, lua] of Object.entries(table)) {
    if (!(name in redis)) redis.defineCommand(name, { lua });
  }
  const call = (name: string) => (keys: string[], args: unknown[]) => (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name](keys.length, ...keys, ...args);
  return {
    commit: call('d4commit') as Scripts['commit'],
    register: call('d4register') as Scripts['register'],
    heartbeat: call('d4heartbeat') as Scripts['heartbeat'],
    takeLease: call('d4takelease') as Scripts['takeLease'],
    broadcast: call('d4broadcast') as Scripts['broadcast'],
    watch: call('d4watch') as Scripts['watch'],
  };
}
