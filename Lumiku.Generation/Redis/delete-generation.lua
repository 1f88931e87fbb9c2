-- Delete a finished generation the user owns (succeeded, failed or canceled): its record, its place
-- in the user's list and in the retention set. The ledger keeps its entries; the caller deletes the
-- image afterwards. A queued or processing one stays (cancel it first). Its idempotency entry stays
-- until its own 24 h expiry, so a replay of the submission answers 409 (replay of a deleted
-- generation) instead of charging a second time.
-- KEYS: gen, userGens, retention. ARGV: userId, id.
-- Returns {'deleted'}, {'missing'} (not the user's, or gone) or {'busy', status}.
-- By hand: redis-cli --eval delete-generation.lua <keys...> , <args...>

local rec = redis.call('HMGET', KEYS[1], 'userId', 'status')
if rec[1] ~= ARGV[1] then return {'missing'} end
if rec[2] == 'queued' or rec[2] == 'processing' then return {'busy', rec[2]} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return {'deleted'}
