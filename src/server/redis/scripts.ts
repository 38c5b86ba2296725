import { createHash } from 'node:crypto'
import type { RedisClientLike } from './client'

/** A Lua script run with `EVALSHA`, falling back to `EVAL` when Redis does not know it yet. */
export interface RedisScript {
  readonly source: string
  readonly sha: string
}

// Every script gets KEYS[1] = the stream, KEYS[2] = its floor key: the id of the newest event
// trimmed so far. Trimming happens only here, so the floor is exact, which is what gap detection
// needs: a cursor before the floor lost events, a cursor at or after it lost nothing (even when
// the cursor's own event is gone). Redis does not record this itself (`max-deleted-entry-id`
// ignores trimming), and comparing with the first retained entry reports a false gap whenever
// the trim boundary falls exactly on the client's cursor.
//
// Trimming is exact rather than `~`: each append trims at most the one or few events it pushed
// out, and knowing their ids is the point. The retention clock is Redis's `TIME`, the same clock
// as the auto-generated ids, so nodes with skewed clocks agree on what has expired.
const PRELUDE = `
local stream, floorKey = KEYS[1], KEYS[2]
local function trim(maxEvents, maxAge)
  local floor = false
  if maxAge > 0 then
    local time = redis.call('TIME')
    local keepFrom = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - maxAge
    if keepFrom > 0 then
      local bound = string.format('%.0f', keepFrom) .. '-0'
      -- A forward probe is O(1); the reverse search (scans within a node) only when trimming.
      if #redis.call('XRANGE', stream, '-', '(' .. bound, 'COUNT', 1) > 0 then
        floor = redis.call('XREVRANGE', stream, '(' .. bound, '-', 'COUNT', 1)[1][1]
        redis.call('XTRIM', stream, 'MINID', bound)
      end
    end
  end
  if maxEvents > 0 then
    -- At most 1000 per call (a lowered maxEvents converges over a few appends): the dropped
    -- entries are read to learn the newest one's id, and reading must stay small.
    local excess = math.min(redis.call('XLEN', stream) - maxEvents, 1000)
    if excess > 0 then
      local dropped = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess + 1)
      floor = dropped[excess][1]
      redis.call('XTRIM', stream, 'MINID', dropped[excess + 1][1])
    end
  end
  if floor then redis.call('SET', floorKey, floor) end
end
local function headOf()
  local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if #last > 0 then return last[1][1] end
  return redis.call('GET', floorKey) or '0-0'
end
`

/** ARGV: id (`*` for auto), event, data, maxEvents, maxAge (0 = no limit). Returns the id. */
const APPEND = `${PRELUDE}
local added = redis.pcall('XADD', stream, ARGV[1], 'event', ARGV[2], 'data', ARGV[3])
if type(added) == 'table' and added.err then
  if string.find(added.err, 'ID specified', 1, true) then
    return redis.error_reply('INVALIDID ' .. added.err)
  end
  return redis.error_reply(added.err)
end
trim(tonumber(ARGV[4]), tonumber(ARGV[5]))
return added
`

/** ARGV: cursor, count, maxEvents, maxAge. Returns `{ floor, entries after the cursor }`. */
const READ = `${PRELUDE}
trim(tonumber(ARGV[3]), tonumber(ARGV[4]))
local floor = redis.call('GET', floorKey) or '0-0'
return { floor, redis.call('XRANGE', stream, '(' .. ARGV[1], '+', 'COUNT', tonumber(ARGV[2])) }
`

/** ARGV: maxEvents, maxAge. Returns the oldest retained id or nil. */
const OLDEST = `${PRELUDE}
trim(tonumber(ARGV[1]), tonumber(ARGV[2]))
local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
if #first > 0 then return first[1][1] end
return false
`

/** Returns the newest id ever appended (while the floor key lives), `0-0` for a new stream. */
const HEAD = `${PRELUDE}
return headOf()
`

/** KEYS[3]: the token's key. ARGV: ttl in ms. Returns the token's cursor. */
const CLAIM = `${PRELUDE}
local known = redis.call('GET', KEYS[3])
if known then return known end
local head = headOf()
redis.call('SET', KEYS[3], head, 'PX', ARGV[1])
return head
`

function script(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

let compiled: Readonly<Record<'append' | 'read' | 'oldest' | 'head' | 'claim', RedisScript>> | undefined

/** The store's scripts, hashed on first use (keeps the module free of work at import). */
export function redisScripts(): Readonly<Record<'append' | 'read' | 'oldest' | 'head' | 'claim', RedisScript>> {
  compiled ??= {
    append: script(APPEND),
    read: script(READ),
    oldest: script(OLDEST),
    head: script(HEAD),
    claim: script(CLAIM),
  }
  return compiled
}

/**
 * Runs a script by hash, sending its source only when Redis answers `NOSCRIPT` (first use, or
 * after a Redis restart emptied the script cache).
 */
export async function runScript(
  client: RedisClientLike,
  { source, sha }: RedisScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  try {
    return await client.sendCommand(['EVALSHA', sha, String(keys.length), ...keys, ...args])
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.sendCommand(['EVAL', source, String(keys.length), ...keys, ...args])
  }
}
