-- End a generation without an image (failed or canceled), refund the reservation once, ack. KEYS:
-- gen, balance, ledger, stream, deadLetter. ARGV: entryId, group, now, newStatus, errorCode,
-- errorMessage, onlyFromQueued, deadLetterReason.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua finish.lua) <keys...> , <args...>

local entry, group, now, newStatus = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if terminal(status) or (ARGV[7] == '1' and status ~= 'queued') then
  if entry ~= '' and terminal(status) then redis.call('XACK', KEYS[4], group, entry) end
  return {'conflict', status}
end
local gen = redis.call('HGET', KEYS[1], 'id')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local bal = redis.call('INCRBY', KEYS[2], reserved)
ledger(KEYS[3], 'refund', gen, reserved, bal, now, {'reason', ARGV[5]})
redis.call('HSET', KEYS[1], 'status', newStatus, 'refunded', tostring(reserved), 'errorCode', ARGV[5], 'errorMessage', ARGV[6], 'completedAt', now)
ended(KEYS[1], newStatus, now)
if ARGV[8] ~= '' then
  redis.call('XADD', KEYS[5], '*', 'entryId', entry, 'id', gen, 'reason', ARGV[8])
end
if entry ~= '' then redis.call('XACK', KEYS[4], group, entry) end
event(gen, newStatus)
return {newStatus, tostring(reserved), tostring(bal)}
