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
