-- End a generation without an image (failed or canceled), refund the reservation once, ack. KEYS:
-- gen, balance, ledger, stream, deadLetter. ARGV: entryId, group, now, newStatus, errorCode,
-- errorMessage, userCancel, deadLetterReason, link (the caller's traceparent). A user's cancel (userCancel '1') of a processing job
-- acks the job's own entry (a crashed worker's job is not taken over) and tells the workers on
-- lumiku:generations:cancel; the worker's Complete then finds the job terminal and charges nothing.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua finish.lua) <keys...> , <args...>

local entry, group, now, newStatus = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if terminal(status) then
  if entry ~= '' then redis.call('XACK', KEYS[4], group, entry) end
  return {'conflict', status}
end
local gen = redis.call('HGET', KEYS[1], 'id')
if ARGV[7] == '1' and status == 'processing' then
  local held = redis.call('HGET', KEYS[1], 'entryId')
  if held then redis.call('XACK', KEYS[4], group, held) end
  redis.call('PUBLISH', 'lumiku:generations:cancel', gen)
end
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
webhook(KEYS[1], gen, newStatus, now, ARGV[9])
return {newStatus, tostring(reserved), tostring(bal)}
