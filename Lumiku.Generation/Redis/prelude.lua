-- Helpers shared by the scripts that change a generation's state; LuaScripts prepends this file to
-- each script that declares "Uses prelude.lua".

-- A user id as RedisKeys.KeyPart puts it into a key name: letters, digits and _ . @ - as they are,
-- any other byte as %XX (upper-case hex), so a key built here is the one C# builds.
local function keypart(id)
  return (string.gsub(id, '[^%w_%.@%-]', function(c) return string.format('%%%02X', string.byte(c)) end))
end

-- Append to the user's ledger (a stream): type, generation, amount, balance after, time, extras.
local function ledger(key, kind, gen, amount, balance, now, extra)
  local args = {key, '*', 'type', kind, 'generationId', gen, 'amount', tostring(amount), 'balance', tostring(balance), 'at', now}
  if extra then for i = 1, #extra do args[#args + 1] = extra[i] end end
  redis.call('XADD', unpack(args))
end

-- Tell SSE listeners about a status change.
local function event(gen, status)
  redis.call('PUBLISH', 'lumiku:events:' .. gen, status)
end

local function terminal(status)
  return status == 'succeeded' or status == 'failed' or status == 'canceled' or status == 'aborted'
end

-- Queue a webhook delivery for a status change, in the same script as the change: when the record has
-- a webhook URL and the status is in its filter, append the event (an id stable across retries, its
-- order within the generation, the time and a snapshot of the record) to the webhook outbox stream and
-- note it as pending in the generation's delivery history. Keys by prefix, as RedisKeys names them.
-- link: the traceparent of the span making the change ('' or nil: none); the delivery span links to it.
local function webhook(key, gen, status, now, link)
  local hook = redis.call('HMGET', key, 'webhook', 'webhookEvents')
  if (not hook[1]) or (not hook[2]) or not string.find(' ' .. hook[2] .. ' ', ' ' .. status .. ' ', 1, true) then return end
  local seq = redis.call('HINCRBY', key, 'webhookSeq', 1)
  local flat, record = redis.call('HGETALL', key), {}
  for i = 1, #flat, 2 do record[flat[i]] = flat[i + 1] end
  local id = 'msg_' .. gen .. '_' .. seq
  redis.call('XADD', 'lumiku:webhooks', '*', 'gen', gen, 'event',
    cjson.encode({id = id, gen = gen, seq = seq, type = status, at = tostring(now), attempt = 0,
    link = (link ~= '' and link) or nil, record = record}))
  redis.call('HSET', 'lumiku:webhooks:gen:' .. gen, tostring(seq), cjson.encode({id = id, type = status, state = 'pending'}))
end

-- Count one more unfinished job (queued or processing) for the user, unless that passes the cap
-- (Limits:MaxUnfinishedJobs). The count is released by ended().
local function claim_unfinished(user, cap)
  local key = 'lumiku:unfinished:' .. keypart(user)
  if tonumber(redis.call('GET', key) or '0') >= cap then return false end
  redis.call('INCR', key)
  return true
end

-- A job reached a terminal state: one unfinished job fewer for its user (the key goes at zero), and a
-- failed, canceled or aborted one joins the retention set, deleted after Retention:FailedDays by the sweep.
local function ended(genKey, status, now)
  local rec = redis.call('HMGET', genKey, 'id', 'userId')
  local key = 'lumiku:unfinished:' .. keypart(rec[2])
  if redis.call('DECR', key) <= 0 then redis.call('DEL', key) end
  if status ~= 'succeeded' then redis.call('ZADD', 'lumiku:retention', now, rec[1]) end
end

-- End a queued job whose Cancel-After deadline has passed: aborted, its reservation refunded. The
-- caller has checked that it is still queued (Start and abort-due.lua, both atomic, so once).
local function abort(genKey, balanceKey, ledgerKey, now, link)
  local gen = redis.call('HGET', genKey, 'id')
  local reserved = tonumber(redis.call('HGET', genKey, 'reserved') or '0')
  local bal = redis.call('INCRBY', balanceKey, reserved)
  ledger(ledgerKey, 'refund', gen, reserved, bal, now, {'reason', 'aborted'})
  redis.call('HSET', genKey, 'status', 'aborted', 'refunded', tostring(reserved), 'errorCode', 'aborted',
    'errorMessage', 'The job had not started by its Cancel-After deadline.', 'completedAt', now)
  event(gen, 'aborted')
  webhook(genKey, gen, 'aborted', now, link)
  ended(genKey, 'aborted', now)
end
