-- Close an event stream a user opened with event-stream-claim.lua; the key goes at zero.
-- KEYS: eventStreams. By hand: redis-cli --eval event-stream-release.lua lumiku:sse:<user>

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local left = redis.call('DECR', KEYS[1])
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
