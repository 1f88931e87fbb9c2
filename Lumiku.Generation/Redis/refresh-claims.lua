-- Keep a worker's in-flight entries claimed: reset their idle time (XCLAIM ... JUSTID, which counts
-- no delivery) so no other worker takes over a job that is still being worked on. Only entries still
-- pending for this consumer are touched: one another worker has taken over stays theirs.
-- KEYS: stream. ARGV: group, consumer, entryIds... Returns how many entries were refreshed.
-- By hand: redis-cli --eval refresh-claims.lua lumiku:generations , avatar-workers <consumer> <entryId...>

local group, consumer = ARGV[1], ARGV[2]
local claim = {'XCLAIM', KEYS[1], group, consumer, 0}
for i = 3, #ARGV do
  if #redis.call('XPENDING', KEYS[1], group, ARGV[i], ARGV[i], 1, consumer) > 0 then claim[#claim + 1] = ARGV[i] end
end
if #claim == 5 then return 0 end
claim[#claim + 1] = 'JUSTID'
return #redis.call(unpack(claim))
