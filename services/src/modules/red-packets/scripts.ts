/** Lua scripts on one packet's keys; each runs atomically on the packet's one slot. */

/**
 * Load a packet. KEYS: meta, parts. ARGV: expiresAtMs, token, then the parts. Does nothing when the
 * packet is already loaded, so a retried create never pushes its parts twice.
 */
export const LOAD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 3, #ARGV, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSET', KEYS[1], 'expiresAtMs', ARGV[1], 'token', ARGV[2])
return 1`;

/**
 * Give a packet loaded before tokens existed its token (MySQL has checked it). KEYS: meta. ARGV:
 * token. Returns 1 when the packet is in Redis (the token set, or already there), 0 when not.
 */
export const ADOPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'token', ARGV[1])
return 1`;

/**
 * Grab. KEYS: meta, parts, grabbed, queue. ARGV: nowMs (the API's clock), userId, token.
 * Returns {outcome, cents?}: ok | already | empty | expired | unknown (the token is wrong) |
 * missing (Redis has no such packet, or it has no token yet: MySQL decides).
 */
export const GRAB = `
local expires, token = unpack(redis.call('HMGET', KEYS[1], 'expiresAtMs', 'token'))
if not expires or not token then return {'missing'} end
if token ~= ARGV[3] then return {'unknown'} end
if redis.call('HEXISTS', KEYS[1], 'closed') == 1 or tonumber(ARGV[1]) >= tonumber(expires) then return {'expired'} end
local prior = redis.call('HGET', KEYS[3], ARGV[2])
if prior then return {'already', prior} end
local part = redis.call('LPOP', KEYS[2])
if not part then return {'empty'} end
redis.call('HSET', KEYS[3], ARGV[2], part)
redis.call('RPUSH', KEYS[4], ARGV[2] .. ':' .. part .. ':' .. ARGV[1])
return {'ok', part}`;

/**
 * Claim up to ARGV[2] admitted grabs at once: each moved queue → processing, its claim time
 * ARGV[1] recorded. KEYS: queue, processing, claims. Returns the items (none: an empty list).
 */
export const CLAIM_MANY = `
local items = {}
for i = 1, tonumber(ARGV[2]) do
  local item = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not item then break end
  redis.call('HSET', KEYS[3], item, ARGV[1])
  items[i] = item
end
return items`;

/**
 * Settle claimed grabs after their commit: drop each from processing and claims, parking the ones
 * MySQL refused in the dead list. KEYS: processing, claims, dead. ARGV: item, dead (0|1), item, dead…
 */
export const SETTLE = `
for i = 1, #ARGV, 2 do
  redis.call('LREM', KEYS[1], 1, ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
  if ARGV[i + 1] == '1' then redis.call('RPUSH', KEYS[3], ARGV[i]) end
end
return 1`;

/**
 * Put grabs claimed longer than the timeout back at the head of the queue (their worker died or
 * stalled; persisting is idempotent, so a second run is harmless). KEYS: queue, processing, claims.
 * ARGV: nowMs, timeoutMs. Returns how many moved.
 */
export const REAP = `
local moved = 0
for _, item in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local at = tonumber(redis.call('HGET', KEYS[3], item) or '0')
  if tonumber(ARGV[1]) - at >= tonumber(ARGV[2]) then
    redis.call('LREM', KEYS[2], 1, item)
    redis.call('HDEL', KEYS[3], item)
    redis.call('LPUSH', KEYS[1], item)
    moved = moved + 1
  end
end
return moved`;

/** Close a packet: no grab is admitted afterwards. KEYS: meta. ARGV: nowMs. Returns 0 when Redis has no packet. */
export const CLOSE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'closed', ARGV[1])
return 1`;

/**
 * Retire a closed packet once nothing is queued or processing: its keys expire after ARGV[1]
 * seconds. KEYS: every key of the packet (meta, parts, grabbed, queue, processing, claims, dead).
 * Returns 1 when retired.
 */
export const RETIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'closed') == 0 then return 0 end
if redis.call('LLEN', KEYS[4]) + redis.call('LLEN', KEYS[5]) > 0 then return 0 end
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ARGV[1]) end
return 1`;
