-- Open one more event stream (SSE) for a user unless that passes the cap (Limits:MaxEventStreams).
-- The count lives ttl seconds past the newest stream, so one an api process never released (it
-- crashed) is forgotten after the longest a stream can last.
-- KEYS: eventStreams. ARGV: cap, ttlSeconds. Returns 1 when claimed, 0 when over the cap.
-- By hand: redis-cli --eval event-stream-claim.lua lumiku:sse:<user> , 10 660

if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
