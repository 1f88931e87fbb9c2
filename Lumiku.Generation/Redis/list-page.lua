-- A page of a user's generations, newest first, strictly after a keyset cursor (creation ms, id),
-- keeping those the filter accepts, with their records: one round trip, whatever the filter. The
-- cursor's place is found by rank (ZREVRANK, or ZCOUNT when its generation is gone), so a deep page
-- costs what the first does; a filter reads each candidate's status (HMGET), and only the page's
-- records are read whole (HGETALL).
-- At most `budget` ids are read: a sparse filter then ends its page short, at the last id read.
-- Reads records by key prefix (not in KEYS): one Redis, not a cluster, as everywhere here.
-- KEYS: userGens. ARGV: afterMs ('' for the first page), afterId, take, budget, genKeyPrefix,
-- status ('' = any), imageOnly ('1' = succeeded with an image: the avatars).
-- Returns {ended (1 when the list was read to its end), lastScore, lastId, {id1, score1, id2, score2, ...}
-- (at most take + 1 matches), record1, record2, ...} with the flat HGETALL of the first `take` matches.
-- By hand: redis-cli --eval list-page.lua lumiku:user-gens:<user> , '' '' 20 1000 lumiku:gen: failed 0

local key, afterMs, afterId = KEYS[1], ARGV[1], ARGV[2]
local take, budget, prefix, status, imageOnly = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7] == '1'
local filtered = status ~= '' or imageOnly

local rank = 0
if afterMs ~= '' then
  rank = redis.call('ZREVRANK', key, afterId)
  if rank then
    rank = rank + 1
  else
    -- The cursor's generation was deleted: start at the first id with a lower score; equal scores are
    -- skipped below by id.
    rank = redis.call('ZCOUNT', key, '(' .. afterMs, '+inf')
  end
end

local found, scanned, ended = {}, 0, 0
local lastScore, lastId = '', ''
local batch = take + 1
while #found <= take * 2 and scanned < budget do
  local entries = redis.call('ZREVRANGE', key, rank, rank + batch - 1, 'WITHSCORES')
  rank = rank + #entries / 2
  for i = 1, #entries, 2 do
    local id, score = entries[i], entries[i + 1]
    if afterMs == '' or tonumber(score) < tonumber(afterMs) or id < afterId then
      scanned = scanned + 1
      local keep = true
      if filtered then
        local rec = redis.call('HMGET', prefix .. id, 'status', 'imageContentType')
        keep = (status == '' or rec[1] == status) and ((not imageOnly) or (rec[1] == 'succeeded' and rec[2] ~= false))
      end
      if keep then
        found[#found + 1] = id
        found[#found + 1] = score
      end
      lastScore, lastId = score, id
      if #found > take * 2 or scanned >= budget then break end
    end
  end
  if #entries < batch * 2 then
    -- The end of the list, unless the loop above stopped early.
    if #found <= take * 2 and scanned < budget then ended = 1 end
    break
  end
  batch = 100
end

local result = {ended, lastScore, lastId, found}
for i = 1, math.min(#found / 2, take) do result[#result + 1] = redis.call('HGETALL', prefix .. found[2 * i - 1]) end
return result
