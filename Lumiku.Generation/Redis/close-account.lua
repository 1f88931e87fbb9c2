-- The last step of DELETE /v1/me, once the user's generations are deleted: the balance is closed out
-- with a ledger line (so the ledger still adds up to zero), the ledger is renamed to its tombstone,
-- and the user's counters go. Refuses while the user still has generations (queued ones included).
-- KEYS: balance, ledger, tombstone, userGens, unfinished, eventStreams, webhookSecret. ARGV: now.
-- Returns {'closed', forfeited, ledgerEntries} or {'busy', generations}.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua close-account.lua) <keys...> , <args...>

local left = redis.call('ZCARD', KEYS[4])
if left > 0 then return {'busy', tostring(left)} end
local bal = tonumber(redis.call('GET', KEYS[1]) or '0')
if bal ~= 0 then ledger(KEYS[2], 'closed', '', -bal, 0, ARGV[1], {'reason', 'account_deleted'}) end
local entries = redis.call('XLEN', KEYS[2])
if entries > 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then
    -- Deleted before (a repeated call, or a user id reused): keep both, appended in order.
    for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do redis.call('XADD', KEYS[3], '*', unpack(e[2])) end
    redis.call('DEL', KEYS[2])
  else
    redis.call('RENAME', KEYS[2], KEYS[3])
  end
end
redis.call('DEL', KEYS[1], KEYS[5], KEYS[6], KEYS[7])
return {'closed', tostring(bal), tostring(entries)}
