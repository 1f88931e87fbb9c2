-- Abort queued jobs whose Cancel-After deadline has passed, whether or not a worker reads them (a
-- slow queue, no worker at all): each due id leaves the deadlines set and, when still queued, is
-- aborted and refunded (prelude's abort; the Start script does the same for an entry it reads, and
-- both check the status atomically, so a job is aborted once). Its stream entry stays; Start skips it.
-- Reads generation records, balances and ledgers by key prefix (not in KEYS): one Redis, not a cluster.
-- KEYS: deadlines. ARGV: now, max, genKeyPrefix, balancePrefix, ledgerPrefix, link (the caller's traceparent). Returns how many were aborted.
-- Uses prelude.lua (prepended at load). By hand: redis-cli --eval <(cat prelude.lua abort-due.lua) lumiku:generations:deadlines , <nowMs> 100 lumiku:gen: lumiku:credits: lumiku:ledger:

local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local aborted = 0
for _, gen in ipairs(due) do
  redis.call('ZREM', KEYS[1], gen)
  local key = ARGV[3] .. gen
  local rec = redis.call('HMGET', key, 'status', 'userId')
  if rec[1] == 'queued' then
    abort(key, ARGV[4] .. keypart(rec[2]), ARGV[5] .. keypart(rec[2]), ARGV[1], ARGV[6])
    aborted = aborted + 1
  end
end
return aborted
