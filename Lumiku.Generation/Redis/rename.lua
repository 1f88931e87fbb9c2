-- Rename a generation the user owns. KEYS: gen. ARGV: userId, name ('' clears it). Checks the owner
-- in the script so a rename never recreates a deleted record.
-- By hand: redis-cli --eval rename.lua <keys...> , <args...>

if redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 'name') else redis.call('HSET', KEYS[1], 'name', ARGV[2]) end
return 1
