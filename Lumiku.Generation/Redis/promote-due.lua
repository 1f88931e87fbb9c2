-- Move delayed jobs whose time has come back onto the stream: each due id leaves the delayed set and,
-- when its generation is still queued (not canceled meanwhile), is XADDed as a new entry. Atomic, so
-- any number of workers can run the mover at once and each job is re-added once.
-- Reads generation records by key prefix (not in KEYS): one Redis, not a cluster, as everywhere here.
-- A re-added job takes a new queueSeq (the back of the queue).
-- KEYS: delayed, stream, workersIdle, enqueuedSeq. ARGV: now, max, genKeyPrefix. Returns how many were re-added.
-- By hand: redis-cli --eval promote-due.lua lumiku:generations:delayed lumiku:generations lumiku:generations:idle lumiku:generations:enqueued , <nowMs> 100 lumiku:gen:

local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved = 0
for _, gen in ipairs(due) do
  redis.call('ZREM', KEYS[1], gen)
  local key = ARGV[3] .. gen
  local rec = redis.call('HMGET', key, 'status', 'userId', 'traceparent', 'tracestate')
  if rec[1] == 'queued' then
    local entry = redis.call('XADD', KEYS[2], '*', 'id', gen, 'user', rec[2], 'traceparent', rec[3] or '', 'tracestate', rec[4] or '')
    redis.call('HSET', key, 'entryId', entry, 'queueSeq', redis.call('INCR', KEYS[4]))
    redis.call('HDEL', key, 'dueAt')
    moved = moved + 1
  end
end
if moved > 0 and redis.call('DEL', KEYS[3]) == 1 then redis.call('PUBLISH', 'lumiku:generations:nudge', '1') end
return moved
