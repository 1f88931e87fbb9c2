-- Grant credits (admin). KEYS: balance, ledger. ARGV: amount, starterGrant, now, reason.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua grant.lua) <keys...> , <args...>

local amount, now = tonumber(ARGV[1]), ARGV[3]
local bal = redis.call('GET', KEYS[1])
if not bal then
  local starter = tonumber(ARGV[2])
  redis.call('SET', KEYS[1], starter)
  if starter > 0 then ledger(KEYS[2], 'grant', '', starter, starter, now, {'reason', 'starter'}) end
end
bal = redis.call('INCRBY', KEYS[1], amount)
ledger(KEYS[2], 'grant', '', amount, bal, now, {'reason', ARGV[4]})
return tostring(bal)
