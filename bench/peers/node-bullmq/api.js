'use strict';
// The old API: verify the bearer token, validate the body, reserve credits in Lua, enqueue a BullMQ job.
const http = require('node:http');
const crypto = require('node:crypto');
const jwt = require('jsonwebtoken');
const Redis = require('ioredis');
const { Queue } = require('bullmq');
const { config, keys, reserve, prices } = require('./common');

// A KeyObject made once: given the secret as a string, jsonwebtoken 9 tries to parse it as a PEM
// key on every verify (half of this api's CPU in a perf profile), which the original would not
// have shipped with.
const jwtKey = crypto.createSecretKey(Buffer.from(config.jwtKey, 'utf8'));
const redis = new Redis(config.redisUrl);
redis.defineCommand('reserve', { numberOfKeys: 3, lua: reserve });
const queue = new Queue('generations', { connection: new Redis(config.redisUrl, { maxRetriesPerRequest: null }) });

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function submit(req, res, raw) {
  let user;
  try {
    const auth = req.headers.authorization ?? '';
    const claims = jwt.verify(auth.startsWith('Bearer ') ? auth.slice(7) : '', jwtKey, { algorithms: ['HS256'], issuer: 'lumiku', audience: 'lumiku-api' });
    user = claims.sub;
  } catch {
    return send(res, 401, { title: 'Unauthorized', status: 401 });
  }

  let body;
  try { body = JSON.parse(raw); } catch { return send(res, 400, { title: 'Invalid JSON', status: 400 }); }
  const { prompt, width = 1024, height = 1024, seed } = body ?? {};
  if (typeof prompt !== 'string' || prompt.trim().length === 0 || prompt.length > 2000
      || !Number.isInteger(width) || !Number.isInteger(height) || width < 256 || height < 256 || width > 1536 || height > 1536) {
    return send(res, 400, { title: 'One or more validation errors occurred.', status: 400 });
  }

  const id = crypto.randomUUID().replaceAll('-', '');
  const now = Date.now().toString();
  const price = prices['black-forest-labs/FLUX.1-dev'];
  const [outcome, balance] = await redis.reserve(keys.gen(id), keys.balance(user), keys.ledger(user),
    id, user, price, config.starter, now, prompt, width, height, seed ?? '');
  if (outcome !== 'accepted') {
    return send(res, 402, { title: 'Not enough credits', status: 402, balance: Number(balance) });
  }

  await queue.add('generate', { id, user, prompt, width, height, seed }, { jobId: id, removeOnComplete: true, removeOnFail: true, attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
  send(res, 202, { id, status: 'queued', reserved: price, balance: Number(balance) }, { Location: '/v1/generations/' + id });
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/health' || req.url === '/alive')) {
    return send(res, 200, { status: 'Healthy' });
  }
  if (req.method !== 'POST' || req.url !== '/v1/generations') {
    return send(res, 404, { title: 'Not Found', status: 404 });
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => submit(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => {
    console.error(e);
    send(res, 500, { title: 'Internal Server Error', status: 500 });
  }));
});
server.keepAliveTimeout = 120_000;
server.listen(Number(config.url.port), config.url.hostname, () => console.log(`peer api on ${config.url.href}`));
