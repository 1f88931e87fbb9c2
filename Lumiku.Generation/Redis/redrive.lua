-- Queue a dead-lettered job again: reserve its price anew (the dead-lettering refunded the first
-- reservation), reset it to queued and XADD a fresh entry. Once per dead-letter entry: a job that is
-- no longer failed, or was already redriven from this entry, changes nothing.
-- The fresh entry takes a new queueSeq (the back of the queue), so its queue position counts right, and
-- a webhook subscribed to 'queued' hears of it, as for a submit.
-- KEYS: deadLetter, gen, balance, ledger, stream, retention, workersIdle, enqueuedSeq.
-- ARGV: deadEntryId, generationId, price, now, traceparent of the change (linked from the webhook delivery).
-- Returns {'queued', balance}, {'missing'} (no such entry for this job), {'gone'} (the record expired or
-- was deleted), {'already', status} or {'insufficient', balance, userId}.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua redrive.lua) <keys...> , <args...>

local entryId, gen, price, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local entry = redis.call('XRANGE', KEYS[1], entryId, entryId)
if #entry == 0 then return {'missing'} end
local named = nil
local fields = entry[1][2]
for i = 1, #fields, 2 do if fields[i] == 'id' then named = fields[i + 1] end end
if named ~= gen then return {'missing'} end
local rec = redis.call('HMGET', KEYS[2], 'status', 'userId', 'redrivenFrom', 'traceparent', 'tracestate')
if not rec[1] then return {'gone'} end
if rec[1] ~= 'failed' or rec[3] == entryId then return {'already', rec[1]} end
local bal = tonumber(redis.call('GET', KEYS[3]) or '0')
if bal < price then return {'insufficient', tostring(bal), rec[2]} end
bal = redis.call('DECRBY', KEYS[3], price)
ledger(KEYS[4], 'reserve', gen, -price, bal, now, {'reason', 'redrive'})
redis.call('HDEL', KEYS[2], 'errorCode', 'errorMessage', 'completedAt', 'dueAt', 'consumer', 'startedAt')
redis.call('HSET', KEYS[2], 'status', 'queued', 'reserved', tostring(price), 'charged', '0', 'refunded', '0', 'attempts', '0', 'redrivenFrom', entryId)
claim_unfinished(rec[2], math.huge)
redis.call('ZREM', KEYS[6], gen)
local fresh = redis.call('XADD', KEYS[5], '*', 'id', gen, 'user', rec[2], 'traceparent', rec[4] or '', 'tracestate', rec[5] or '')
redis.call('HSET', KEYS[2], 'entryId', fresh, 'queueSeq', redis.call('INCR', KEYS[8]))
if redis.call('DEL', KEYS[7]) == 1 then redis.call('PUBLISH', 'lumiku:generations:nudge', '1') end
event(gen, 'queued')
webhook(KEYS[2], gen, 'queued', now, ARGV[5])
return {'queued', tostring(bal)}
