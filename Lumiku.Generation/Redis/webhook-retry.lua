-- An attempt failed and another is due later: record the delivery state, park the event (with its
-- attempt count) in the delayed set until dueAt, ack the entry. webhook-promote.lua re-adds it.
-- KEYS: deliveries, outbox, delayed. ARGV: entryId, group, seq, state, dueAt (Unix ms), event.
-- By hand: redis-cli --eval webhook-retry.lua lumiku:webhooks:gen:<id> lumiku:webhooks lumiku:webhooks:delayed , <entry> webhook-senders <seq> <json> <ms> <json>

redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], tonumber(ARGV[5]), ARGV[6])
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
return 1
