-- The image is stored: mark succeeded, settle at the price of the model that produced it (returning
-- the difference), ack. KEYS: gen, balance, ledger, stream. ARGV: entryId, group, now, modelUsed,
-- price, fellBack, primaryError, contentType, bytes, provider, link (the caller's traceparent).
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua complete.lua) <keys...> , <args...>

local entry, group, now = ARGV[1], ARGV[2], ARGV[3]
local status = redis.call('HGET', KEYS[1], 'status')
if (not status) or terminal(status) then
  if entry ~= '' then redis.call('XACK', KEYS[4], group, entry) end
  return {'already', status or 'missing'}
end
local gen = redis.call('HGET', KEYS[1], 'id')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local charge = math.min(tonumber(ARGV[5]), reserved)
local back = reserved - charge
local bal
if back > 0 then bal = redis.call('INCRBY', KEYS[2], back) else bal = tonumber(redis.call('GET', KEYS[2]) or '0') end
ledger(KEYS[3], 'settle', gen, back, bal, now, {'charged', tostring(charge), 'model', ARGV[4]})
redis.call('HSET', KEYS[1], 'status', 'succeeded', 'modelUsed', ARGV[4], 'fellBack', ARGV[6], 'primaryError', ARGV[7],
  'charged', tostring(charge), 'imageContentType', ARGV[8], 'imageBytes', ARGV[9], 'completedAt', now, 'provider', ARGV[10] or '')
ended(KEYS[1], 'succeeded', now)
if entry ~= '' then redis.call('XACK', KEYS[4], group, entry) end
event(gen, 'succeeded')
webhook(KEYS[1], gen, 'succeeded', now, ARGV[11])
return {'succeeded', tostring(charge), tostring(bal)}
