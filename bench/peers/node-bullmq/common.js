'use strict';
// Shared by api.js and worker.js: configuration from the environment the bench gives every
// service (the same variables the .NET services read), the Redis keys of the Lumiku schema (so the
// bench reads outcomes and checks ledgers the same way for both stacks), and the credit scripts.

const env = (name, fallback) => process.env[name] ?? fallback;

const config = {
  redisUrl: 'redis://' + env('ConnectionStrings__redis', '127.0.0.1:6379').split(',')[0],
  url: new URL(env('ASPNETCORE_URLS', 'http://127.0.0.1:8080').split(';')[0]),
  jwtKey: env('Jwt__SigningKey', ''),
  images: env('Images__Path', '/tmp/lumiku-peer-images'),
  starter: Number(env('Credits__StarterGrant', '100')),
  inference: env('services__inference__http__0', 'http://127.0.0.1:5080'),
  token: env('Flux__Token', 'peer'),
  concurrency: Number(env('Worker__Concurrency', '16')),
};

const keys = {
  gen: (id) => 'lumiku:gen:' + id,
  balance: (user) => 'lumiku:credits:' + user,
  ledger: (user) => 'lumiku:ledger:' + user,
};

// Reserve the price (creating the starter balance on first use) and write the record.
// KEYS: gen, balance, ledger. ARGV: id, user, price, starter, now, prompt, width, height, seed.
const reserve = `
local price, starter, now = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local bal = redis.call('GET', KEYS[2])
if not bal then
  bal = starter
  redis.call('SET', KEYS[2], bal)
  if bal > 0 then redis.call('XADD', KEYS[3], '*', 'type', 'grant', 'generationId', '', 'amount', tostring(bal), 'balance', tostring(bal), 'at', now, 'reason', 'starter') end
else
  bal = tonumber(bal)
end
if bal < price then return {'insufficient', tostring(bal)} end
bal = redis.call('DECRBY', KEYS[2], price)
redis.call('XADD', KEYS[3], '*', 'type', 'reserve', 'generationId', ARGV[1], 'amount', tostring(-price), 'balance', tostring(bal), 'at', now)
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'userId', ARGV[2], 'status', 'queued', 'reserved', tostring(price), 'charged', '0', 'refunded', '0',
  'createdAt', now, 'prompt', ARGV[6], 'width', ARGV[7], 'height', ARGV[8], 'seed', ARGV[9])
return {'accepted', tostring(bal)}
`;

// Settle at the price of the model used, or refund everything; once (checks the status first).
// KEYS: gen, balance, ledger. ARGV: status, charge, now, model, fellBack, bytes, errorCode.
const finish = `
local status = redis.call('HGET', KEYS[1], 'status')
if (not status) or status == 'succeeded' or status == 'failed' then return 0 end
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local gen = redis.call('HGET', KEYS[1], 'id')
local charge = math.min(tonumber(ARGV[2]), reserved)
local back = reserved - charge
local bal
if back > 0 then bal = redis.call('INCRBY', KEYS[2], back) else bal = tonumber(redis.call('GET', KEYS[2]) or '0') end
redis.call('XADD', KEYS[3], '*', 'type', ARGV[1] == 'succeeded' and 'settle' or 'refund', 'generationId', gen, 'amount', tostring(back), 'balance', tostring(bal), 'at', ARGV[3])
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'charged', tostring(charge), 'refunded', ARGV[1] == 'succeeded' and '0' or tostring(back),
  'modelUsed', ARGV[4], 'fellBack', ARGV[5], 'imageBytes', ARGV[6], 'errorCode', ARGV[7], 'completedAt', ARGV[3])
return 1
`;

const prices = { 'black-forest-labs/FLUX.1-dev': 10, 'black-forest-labs/FLUX.1-schnell': 5 };

module.exports = { config, keys, reserve, finish, prices };
