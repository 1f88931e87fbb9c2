-- Grant credits (admin), at most once per idempotency key, never past the balance limit.
-- KEYS: balance, ledger, idempotency. ARGV: amount, starterGrant, now, reason, fingerprint ('' = no
-- key), idemTtl, maxBalance. Returns {'granted'|'existing', balance}, {'conflict'} or {'limit', balance}.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua grant.lua) <keys...> , <args...>

local amount, starter, now, fp, maxBalance = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[5], tonumber(ARGV[7])
if fp ~= '' then
  local existing = redis.call('GET', KEYS[3])
  if existing then
    local sep = string.find(existing, '|', 1, true)
    if string.sub(existing, 1, sep - 1) == fp then return {'existing', string.sub(existing, sep + 1)} end
    return {'conflict'}
  end
end
-- Doubles are exact here: balances stay below 10^14 (CreditLimits).
local bal = redis.call('GET', KEYS[1])
local current = bal and tonumber(bal) or starter
if current + amount > maxBalance then return {'limit', tostring(current)} end
if not bal then
  redis.call('SET', KEYS[1], starter)
  if starter > 0 then ledger(KEYS[2], 'grant', '', starter, starter, now, {'reason', 'starter'}) end
end
bal = redis.call('INCRBY', KEYS[1], ARGV[1])
ledger(KEYS[2], 'grant', '', amount, bal, now, {'reason', ARGV[4]})
if fp ~= '' then redis.call('SET', KEYS[3], fp .. '|' .. tostring(bal), 'EX', ARGV[6]) end
return {'granted', tostring(bal)}
