-- Helpers shared by the scripts that change a generation's state; LuaScripts prepends this file to
-- each script that declares "Uses prelude.lua".

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
  return status == 'succeeded' or status == 'failed' or status == 'canceled'
end

-- Count one more unfinished job (queued or processing) for the user, unless that passes the cap
-- (Limits:MaxUnfinishedJobs). The count is released by ended().
local function claim_unfinished(user, cap)
  local key = 'lumiku:unfinished:' .. user
  if tonumber(redis.call('GET', key) or '0') >= cap then return false end
  redis.call('INCR', key)
  return true
end

-- A job reached a terminal state: one unfinished job fewer for its user (the key goes at zero), and a
-- failed or canceled one joins the retention set, deleted after Retention:FailedDays by the sweep.
local function ended(genKey, status, now)
  local rec = redis.call('HMGET', genKey, 'id', 'userId')
  local key = 'lumiku:unfinished:' .. rec[2]
  if redis.call('DECR', key) <= 0 then redis.call('DEL', key) end
  if status ~= 'succeeded' then redis.call('ZADD', 'lumiku:retention', now, rec[1]) end
end
