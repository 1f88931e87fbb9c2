-- Put a job this worker is processing back to queued without counting the delivery: the provider
-- was not asked (its circuit breaker is open) or said "later" (429/503/timeout after the client's
-- retries). Undoes the Start script's attempts increment, acks the entry, and either re-adds the job
-- to the stream at once (dueAt <= now) or parks it in the delayed set until dueAt (promote-due.lua
-- re-adds it then; the trace context waits in the record). Only the consumer that holds the job may
-- requeue it; a terminal job is only acked. A canceled job is skipped by Start or the mover.
-- Re-added at once, the job takes a new queueSeq (the back of the queue).
-- KEYS: gen, stream, delayed, workersIdle, enqueuedSeq. ARGV: entryId, group, now, consumer, dueAt, userId,
-- traceparent, tracestate, reason, link (the caller's traceparent, for webhook events).
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua requeue.lua) <keys...> , <args...>

local entry, group, now, due = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5])
local status = redis.call('HGET', KEYS[1], 'status')
if (not status) or terminal(status) then
  redis.call('XACK', KEYS[2], group, entry)
  return {'finished', status or 'missing'}
end
if status ~= 'processing' or redis.call('HGET', KEYS[1], 'consumer') ~= ARGV[4] then return {'not_ours', status} end
local gen = redis.call('HGET', KEYS[1], 'id')
local attempts = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')
redis.call('HSET', KEYS[1], 'status', 'queued', 'attempts', tostring(math.max(attempts - 1, 0)), 'requeueReason', ARGV[9])
redis.call('XACK', KEYS[2], group, entry)
if due <= now then
  local fresh = redis.call('XADD', KEYS[2], '*', 'id', gen, 'user', ARGV[6], 'traceparent', ARGV[7], 'tracestate', ARGV[8])
  redis.call('HSET', KEYS[1], 'entryId', fresh, 'queueSeq', redis.call('INCR', KEYS[5]))
  if redis.call('DEL', KEYS[4]) == 1 then redis.call('PUBLISH', 'lumiku:generations:nudge', '1') end
else
  redis.call('HSET', KEYS[1], 'dueAt', ARGV[5], 'traceparent', ARGV[7], 'tracestate', ARGV[8])
  redis.call('HINCRBY', KEYS[1], 'deferrals', 1)
  redis.call('ZADD', KEYS[3], due, gen)
end
event(gen, 'queued')
webhook(KEYS[1], gen, 'queued', now, ARGV[10])
return {'queued', ARGV[5]}
