-- Re-add webhook events whose retry is due to the outbox stream; atomic, so every worker may run it.
-- KEYS: delayed, outbox. ARGV: now (Unix ms), max. Returns how many were re-added.
-- By hand: redis-cli --eval webhook-promote.lua lumiku:webhooks:delayed lumiku:webhooks , <ms> 100

local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, event in ipairs(due) do
  redis.call('ZREM', KEYS[1], event)
  redis.call('XADD', KEYS[2], '*', 'gen', cjson.decode(event).gen, 'event', event)
end
return #due
