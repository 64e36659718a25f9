/**
 * Lua scripts on one sale's keys (KEYS = scriptKeys(saleId): meta, stock, users, reservations, idem,
 * confirmed, failed). Each runs atomically on the sale's one slot.
 */

/**
 * Admission. ARGV: nowMs (the API's clock), userId, idempotencyKey, newRequestId.
 * The API's clock decides the window (not Redis TIME) so the sale status the GET reports and the
 * admission agree, and a sale's window is judged by the same clock that answers the client.
 * Returns {outcome, requestId?, seq?}.
 */
export const ADMIT = `
local startsAt = redis.call('HGET', KEYS[1], 'startsAtMs')
if not startsAt then return {'missing'} end
local now, user, key, rid = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local prior = redis.call('HGET', KEYS[5], key)
if prior then
  local owner, priorRid = string.match(prior, '^([^|]+)|(.+)$')
  if owner ~= user then return {'key_reused'} end
  return {'duplicate', priorRid}
end
if now < tonumber(startsAt) then return {'not_started'} end
if now >= tonumber(redis.call('HGET', KEYS[1], 'endsAtMs')) then return {'ended'} end
local count = tonumber(redis.call('HGET', KEYS[3], user) or '0')
if count >= tonumber(redis.call('HGET', KEYS[1], 'perUserLimit')) then return {'limit_reached'} end
if tonumber(redis.call('GET', KEYS[2]) or '0') <= 0 then return {'sold_out'} end
redis.call('DECR', KEYS[2])
local seq = redis.call('HINCRBY', KEYS[3], user, 1)
redis.call('HSET', KEYS[4], rid, user .. '|' .. seq .. '|' .. ARGV[1])
redis.call('HSET', KEYS[5], key, user .. '|' .. rid)
return {'admitted', rid, tostring(seq)}`;

/**
 * Load a sale into Redis (creation, or after Redis lost it). ARGV: startsAtMs, endsAtMs,
 * perUserLimit, stock, remaining. The counter is only set when absent: a live counter is never reset.
 */
export const LOAD = `
redis.call('HSET', KEYS[1], 'startsAtMs', ARGV[1], 'endsAtMs', ARGV[2], 'perUserLimit', ARGV[3], 'stock', ARGV[4])
redis.call('SETNX', KEYS[2], ARGV[5])
return 1`;

/** One request's state. ARGV: requestId. Returns {reservation|false, orderId|false, failReason|false}. */
export const STATUS = `
return { redis.call('HGET', KEYS[4], ARGV[1]), redis.call('HGET', KEYS[6], ARGV[1]), redis.call('HGET', KEYS[7], ARGV[1]) }`;

/**
 * Repair after comparing with MySQL. ARGV: startsAtMs, endsAtMs, perUserLimit, stock, then
 * (requestId, userId, seq, createdMs) for every MySQL order Redis has no reservation for.
 * Restores those reservations and the users' counts, then sets the counter to
 * stock − (reservations − failed), returning {restored, reservations, failed, remainingBefore, remainingAfter}.
 */
export const REPAIR = `
redis.call('HSET', KEYS[1], 'startsAtMs', ARGV[1], 'endsAtMs', ARGV[2], 'perUserLimit', ARGV[3], 'stock', ARGV[4])
local restored = 0
for i = 5, #ARGV, 4 do
  local rid, user, seq = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('HSETNX', KEYS[4], rid, user .. '|' .. seq .. '|' .. ARGV[i + 3]) == 1 then restored = restored + 1 end
  if tonumber(redis.call('HGET', KEYS[3], user) or '0') < seq then redis.call('HSET', KEYS[3], user, seq) end
end
local reservations = redis.call('HLEN', KEYS[4])
local failed = 0
for _, rid in ipairs(redis.call('HKEYS', KEYS[7])) do
  if redis.call('HEXISTS', KEYS[4], rid) == 1 then failed = failed + 1 end
end
local before = redis.call('GET', KEYS[2])
local after = tonumber(ARGV[4]) - reservations + failed
if after < 0 then after = 0 end
redis.call('SET', KEYS[2], after)
return {restored, reservations, failed, before or false, after}`;
