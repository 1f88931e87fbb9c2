-- May this outbox entry be sent now? Events of one generation go out in order: an event whose
-- predecessor has not settled (delivered or given up) is parked in the generation's delivery hash
-- and acked; settling the predecessor re-adds it (webhook-settle.lua). An event already settled
-- (a redelivery) is only acked.
-- KEYS: deliveries, outbox. ARGV: entryId, group, seq, event. Returns {'go', disabled} | {'parked'} | {'done'}.
-- By hand: redis-cli --eval webhook-begin.lua lumiku:webhooks:gen:<id> lumiku:webhooks , <entry> webhook-senders <seq> <json>

local seq = tonumber(ARGV[3])
local done = tonumber(redis.call('HGET', KEYS[1], 'done') or '0')
if seq <= done then
  redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
  return {'done'}
end
if seq > done + 1 then
  redis.call('HSET', KEYS[1], 'parked:' .. seq, ARGV[4])
  redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
  return {'parked'}
end
return {'go', redis.call('HGET', KEYS[1], 'disabled') or ''}
