-- Retention: delete failed, canceled and aborted generations that ended before the cutoff (the retention set
-- holds them by end time; ended() in prelude.lua adds them). Each record goes with its place in the
-- user's list; one redriven since (no longer failed) only leaves the set. Idempotent, so any number
-- of workers may run it at once.
-- Reads records by key prefix (not in KEYS): one Redis, not a cluster, as everywhere here.
-- KEYS: retention. ARGV: cutoffMs, max, genKeyPrefix, userGensPrefix. Returns the deleted ids.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua expire-failed.lua) lumiku:retention , <cutoffMs> 100 lumiku:gen: lumiku:user-gens:

local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local deleted = {}
for _, gen in ipairs(ids) do
  redis.call('ZREM', KEYS[1], gen)
  local key = ARGV[3] .. gen
  local rec = redis.call('HMGET', key, 'userId', 'status')
  if rec[2] == 'failed' or rec[2] == 'canceled' or rec[2] == 'aborted' then
    local idem = redis.call('HGET', key, 'idemKey')
    if idem then redis.call('DEL', idem) end
    redis.call('DEL', key)
    redis.call('ZREM', ARGV[4] .. keypart(rec[1]), gen)
    deleted[#deleted + 1] = gen
  end
end
return deleted
