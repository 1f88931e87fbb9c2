-- An event is settled (delivered, given up, or its webhook disabled by a 410): record its delivery
-- state, move the generation's settled mark past it, ack, and put its parked successor (if any) back
-- on the outbox. KEYS: deliveries, outbox. ARGV: entryId, group, seq, state, generationId, disable ('1'
-- after a 410), historyTtlSeconds.
-- By hand: redis-cli --eval webhook-settle.lua lumiku:webhooks:gen:<id> lumiku:webhooks , <entry> webhook-senders <seq> <json> <id> 0 604800

local seq = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], tostring(seq), ARGV[4])
if seq > tonumber(redis.call('HGET', KEYS[1], 'done') or '0') then redis.call('HSET', KEYS[1], 'done', seq) end
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'disabled', '1') end
if ARGV[1] ~= '' then redis.call('XACK', KEYS[2], ARGV[2], ARGV[1]) end
local nextKey = 'parked:' .. (seq + 1)
local parked = redis.call('HGET', KEYS[1], nextKey)
if parked then
  redis.call('XADD', KEYS[2], '*', 'gen', ARGV[5], 'event', parked)
  redis.call('HDEL', KEYS[1], nextKey)
end
redis.call('EXPIRE', KEYS[1], ARGV[7])
return seq
