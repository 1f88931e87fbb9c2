-- Delete a finished generation the user owns (succeeded, failed or canceled): its record, its place
-- in the user's list and in the retention set. The ledger keeps its entries; the caller deletes the
-- image afterwards. A queued or processing one stays (cancel it first). Its idempotency entry (named
-- in the record, not in KEYS: one Redis, not a cluster) goes with it.
-- KEYS: gen, userGens, retention. ARGV: userId, id.
-- Returns {'deleted'}, {'missing'} (not the user's, or gone) or {'busy', status}.
-- By hand: redis-cli --eval delete-generation.lua <keys...> , <args...>

local rec = redis.call('HMGET', KEYS[1], 'userId', 'status')
if rec[1] ~= ARGV[1] then return {'missing'} end
if rec[2] == 'queued' or rec[2] == 'processing' then return {'busy', rec[2]} end
-- A replay of the submission must not find an id whose record is gone: its idempotency entry goes too.
local idem = redis.call('HGET', KEYS[1], 'idemKey')
if idem then redis.call('DEL', idem) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return {'deleted'}
