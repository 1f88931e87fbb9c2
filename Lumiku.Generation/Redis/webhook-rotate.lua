-- Rotate a user's webhook signing secret: the current one becomes the previous, signing beside the
-- new one until previousUntil. KEYS: secret. ARGV: newSecret, previousUntil (Unix ms). Returns the new secret.
-- By hand: redis-cli --eval webhook-rotate.lua lumiku:webhook-secret:<user> , whsec_... <ms>

local current = redis.call('HGET', KEYS[1], 'current')
if current then redis.call('HSET', KEYS[1], 'previous', current, 'previousUntil', ARGV[2]) end
redis.call('HSET', KEYS[1], 'current', ARGV[1])
return ARGV[1]
