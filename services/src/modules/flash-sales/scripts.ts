/**
 * Lua scripts on one sale's keys (KEYS = scriptKeys(saleId): meta, stock, users, reservations, idem,
 * confirmed, failed, unless a script says otherwise). Each runs atomically on the sale's one slot.
 */

// Redis's clock in ms (Redis 7 replicates a script's effects, so scripts may read TIME).
const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowS = tostring(now)`;

/**
 * Admission. ARGV: deadlineMs (Redis's clock), userId, idempotencyKey, requestId (derived from the
 * sale, the user and the key: request-id.ts). Redis's TIME decides the window — one clock for every
 * API replica, whatever theirs say. Returns {outcome, nowMs, requestId?, reservation?, settled?}.
 *
 * A request already known (its reservation, or its order confirmed) is a duplicate, even when the
 * Idempotency-Key entry was lost: the reconciler restores reservations from MySQL orders by
 * requestId. A script that reaches Redis after `deadlineMs` changes nothing ('stale'): its API call
 * has given up and answered 503, so a copy ioredis re-sends to a new master after a failover must
 * not admit a purchase nobody will be told about (it counts itself in meta's `staleDropped`).
 */
export const ADMIT = `
${NOW_MS}
local meta = redis.call('HMGET', KEYS[1], 'startsAtMs', 'endsAtMs', 'perUserLimit')
if not meta[1] then return {'missing', nowS} end
local user, key, rid = ARGV[2], ARGV[3], ARGV[4]
local function known(id)
  local res, orderId = redis.call('HGET', KEYS[4], id), redis.call('HGET', KEYS[6], id)
  if not res and not orderId then return nil end
  local settled = (orderId or redis.call('HEXISTS', KEYS[7], id) == 1) and '1' or '0'
  return {'duplicate', nowS, id, res or '', settled}
end
local dup = known(rid)
if dup then return dup end
local prior = redis.call('HGET', KEYS[5], key)
if prior then
  local owner, priorRid = string.match(prior, '^([^|]+)|(.+)$')
  if owner ~= user then return {'key_reused', nowS} end
  -- A key admitted before requestIds were derived names a random requestId.
  if priorRid ~= rid then return known(priorRid) or {'duplicate', nowS, priorRid, '', '0'} end
end
if now > tonumber(ARGV[1]) then
  redis.call('HINCRBY', KEYS[1], 'staleDropped', 1)
  return {'stale', nowS}
end
if now < tonumber(meta[1]) then return {'not_started', nowS} end
if now >= tonumber(meta[2]) then return {'ended', nowS} end
if tonumber(redis.call('HGET', KEYS[3], user) or '0') >= tonumber(meta[3]) then return {'limit_reached', nowS} end
if tonumber(redis.call('GET', KEYS[2]) or '0') <= 0 then return {'sold_out', nowS} end
redis.call('DECR', KEYS[2])
local reservation = user .. '|' .. redis.call('HINCRBY', KEYS[3], user, 1) .. '|' .. nowS
redis.call('HSET', KEYS[4], rid, reservation)
redis.call('HSET', KEYS[5], key, user .. '|' .. rid)
return {'admitted', nowS, rid, reservation, '0'}`;

/**
 * What a request already is, read-only (a sold-out sale skips admission, not a retry's lookup).
 * ARGV: userId, idempotencyKey, requestId. Returns 'known' (its reservation, order or key is
 * this user's), 'key_reused' (the key is another user's) or 'new'.
 */
export const PRIOR = `
if redis.call('HEXISTS', KEYS[4], ARGV[3]) == 1 or redis.call('HEXISTS', KEYS[6], ARGV[3]) == 1 then return 'known' end
local prior = redis.call('HGET', KEYS[5], ARGV[2])
if not prior then return 'new' end
if string.match(prior, '^([^|]+)|') ~= ARGV[1] then return 'key_reused' end
return 'known'`;

/**
 * Record a worker's outcome. KEYS: meta, then the confirmed or failed hash; ARGV: requestId, value.
 * Only while the sale is in Redis, and with meta's expiry: a late message must not bring back a
 * settled sale's expired keys for good (Redis runs noeviction).
 */
export const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1`;

/** Let every key of a settled sale expire in ARGV[1] seconds (NX: a second call does not push it back). */
export const EXPIRE_SALE = `
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ARGV[1], 'NX') end
return 1`;

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
