-- Reserve credits, write the record and queue the job, atomically. A worker about to sleep has set
-- the idle flag: clear it and nudge (busy workers get no message).
-- A job with a Cancel-After deadline (a cancelAt field) is also added to the deadlines set.
-- The job's queueSeq (one more than the last job enqueued) is what its queue position counts from.
-- KEYS: gen, balance, ledger, stream, userGens, idempotency, workersIdle, deadlines, enqueuedSeq.
-- ARGV: id, userId, price, starterGrant, now, idemFingerprint, traceparent, tracestate, idemTtl, maxUnfinished, field/value pairs...
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua submit.lua) <keys...> , <args...>

local id, price, starter, now, fp = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6]
if fp ~= '' then
  local existing = redis.call('GET', KEYS[6])
  if existing then
    local sep = string.find(existing, '|', 1, true)
    local gid = string.sub(existing, sep + 1)
    if string.sub(existing, 1, sep - 1) == fp then return {'existing', gid} end
    return {'conflict', gid}
  end
end
local bal = redis.call('GET', KEYS[2])
if not bal then
  bal = starter
  redis.call('SET', KEYS[2], bal)
  if bal > 0 then ledger(KEYS[3], 'grant', '', bal, bal, now, {'reason', 'starter'}) end
else
  bal = tonumber(bal)
end
if bal < price then return {'insufficient', tostring(bal)} end
if not claim_unfinished(ARGV[2], tonumber(ARGV[10])) then return {'busy', tostring(bal)} end
bal = redis.call('DECRBY', KEYS[2], price)
ledger(KEYS[3], 'reserve', id, -price, bal, now)
local fields = {KEYS[1], 'status', 'queued', 'reserved', tostring(price), 'charged', '0', 'refunded', '0', 'attempts', '0', 'createdAt', now}
for i = 11, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', unpack(fields))
redis.call('ZADD', KEYS[5], now, id)
if fp ~= '' then redis.call('SET', KEYS[6], fp .. '|' .. id, 'EX', ARGV[9]) end
local entry = redis.call('XADD', KEYS[4], '*', 'id', id, 'user', ARGV[2], 'traceparent', ARGV[7], 'tracestate', ARGV[8])
redis.call('HSET', KEYS[1], 'entryId', entry, 'queueSeq', redis.call('INCR', KEYS[9]))
local cancelAt = redis.call('HGET', KEYS[1], 'cancelAt')
if cancelAt then redis.call('ZADD', KEYS[8], cancelAt, id) end
webhook(KEYS[1], id, 'queued', now, ARGV[7])
if redis.call('DEL', KEYS[7]) == 1 then redis.call('PUBLISH', 'lumiku:generations:nudge', '1') end
return {'accepted', id, tostring(bal)}
