-- Remove a consumer from the group when it holds no pending entries. Checked and removed in one step:
-- DELCONSUMER drops a consumer's pending entries, so one that read a job since the caller looked
-- must stay. A live worker that was removed is recreated by its next XREADGROUP.
-- KEYS: stream. ARGV: group, consumer. Returns 1 when removed.
-- By hand: redis-cli --eval remove-consumer.lua lumiku:generations , avatar-workers <consumer>

if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return 0 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) >= 0 and 1 or 0
