-- Delete a succeeded generation (an avatar) the user owns: its record and its place in the user's
-- list. The ledger keeps its entries. KEYS: gen, userGens. ARGV: userId, id. Returns 1 when deleted,
-- 0 when not the user's or not an avatar.
-- By hand: redis-cli --eval delete-avatar.lua <keys...> , <args...>

if redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'succeeded' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
