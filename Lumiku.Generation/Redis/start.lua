-- A worker takes a delivered entry: skip it when the generation is already terminal (or gone), abort
-- a queued one past its Cancel-After deadline (refunding), dead-letter it past the delivery limit
-- (refunding), else mark it processing and return the record.
-- Every entry read moves the started sequence up to its job's queueSeq (queue positions count from it).
-- KEYS: gen, balance, ledger, stream, deadLetter, startedSeq. ARGV: entryId, group, now, maxAttempts, consumer,
-- link (the caller's traceparent, for webhook events).
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua start.lua) <keys...> , <args...>

local entry, group, now = ARGV[1], ARGV[2], ARGV[3]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then
  redis.call('XADD', KEYS[5], '*', 'entryId', entry, 'reason', 'missing_record')
  redis.call('XACK', KEYS[4], group, entry)
  return {'missing'}
end
local seq = tonumber(redis.call('HGET', KEYS[1], 'queueSeq') or '0')
if seq > tonumber(redis.call('GET', KEYS[6]) or '0') then redis.call('SET', KEYS[6], seq) end
if terminal(status) then
  redis.call('XACK', KEYS[4], group, entry)
  return {'skip', status}
end
local cancelAt = redis.call('HGET', KEYS[1], 'cancelAt')
if status == 'queued' and cancelAt and tonumber(now) >= tonumber(cancelAt) then
  abort(KEYS[1], KEYS[2], KEYS[3], now, ARGV[6])
  redis.call('XACK', KEYS[4], group, entry)
  return {'skip', 'aborted'}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts > tonumber(ARGV[4]) then
  local gen = redis.call('HGET', KEYS[1], 'id')
  local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
  local bal = redis.call('INCRBY', KEYS[2], reserved)
  ledger(KEYS[3], 'refund', gen, reserved, bal, now, {'reason', 'dead_lettered'})
  redis.call('HSET', KEYS[1], 'status', 'failed', 'refunded', tostring(reserved), 'errorCode', 'dead_lettered',
    'errorMessage', 'The job failed ' .. (attempts - 1) .. ' deliveries and was moved to the dead-letter stream.', 'completedAt', now)
  ended(KEYS[1], 'failed', now)
  redis.call('XADD', KEYS[5], '*', 'entryId', entry, 'id', gen, 'reason', 'delivery_limit', 'attempts', tostring(attempts - 1))
  redis.call('XACK', KEYS[4], group, entry)
  event(gen, 'failed')
  webhook(KEYS[1], gen, 'failed', now, ARGV[6])
  return {'dead'}
end
redis.call('HSET', KEYS[1], 'status', 'processing', 'startedAt', now, 'consumer', ARGV[5])
if status ~= 'processing' then event(redis.call('HGET', KEYS[1], 'id'), 'processing') end
if status ~= 'processing' then webhook(KEYS[1], redis.call('HGET', KEYS[1], 'id'), 'processing', now, ARGV[6]) end
return {'process', redis.call('HGETALL', KEYS[1])}
