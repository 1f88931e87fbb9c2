'use strict';
// The old worker: a BullMQ worker (concurrency 16) that calls FLUX.1-dev, falls back to
// FLUX.1-schnell (4 steps, guidance 0) on a 400, stores the image as a file and settles credits in Lua.
const http = require('node:http');
const fs = require('node:fs/promises');
const path = require('node:path');
const Redis = require('ioredis');
const { Worker } = require('bullmq');
const { config, keys, finish, prices } = require('./common');

const redis = new Redis(config.redisUrl);
redis.defineCommand('finish', { numberOfKeys: 3, lua: finish });
const base = config.inference.endsWith('/') ? config.inference : config.inference + '/';

async function flux(model, steps, guidance, job) {
  const parameters = { num_inference_steps: steps, guidance_scale: guidance, width: job.width, height: job.height };
  if (job.seed !== undefined && job.seed !== null && job.seed !== '') parameters.seed = job.seed;
  return fetch(base + 'models/' + model, {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + config.token, 'Content-Type': 'application/json', Accept: 'image/png' },
    body: JSON.stringify({ inputs: job.prompt, parameters }),
  });
}

async function generate(job) {
  const data = job.data;
  await redis.hset(keys.gen(data.id), 'status', 'processing', 'startedAt', Date.now().toString());
  let model = 'black-forest-labs/FLUX.1-dev';
  let fellBack = '0';
  let response = await flux(model, 30, 3.5, data);
  if (response.status === 400) {
    await response.arrayBuffer();
    model = 'black-forest-labs/FLUX.1-schnell';
    fellBack = '1';
    response = await flux(model, 4, 0, data);
  }
  if (!response.ok) {
    const text = await response.text();
    const error = new Error(`provider ${response.status}: ${text.slice(0, 200)}`);
    if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
      await redis.finish(keys.gen(data.id), keys.balance(data.user), keys.ledger(data.user), 'failed', 0, Date.now().toString(), model, fellBack, '0', 'provider_' + response.status);
    }
    throw error;
  }
  const image = Buffer.from(await response.arrayBuffer());
  const dir = path.join(config.images, data.id.slice(-2));
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, data.id + '.png'), image);
  await redis.finish(keys.gen(data.id), keys.balance(data.user), keys.ledger(data.user), 'succeeded', prices[model], Date.now().toString(), model, fellBack, image.length.toString(), '');
}

const worker = new Worker('generations', generate, { connection: new Redis(config.redisUrl, { maxRetriesPerRequest: null }), concurrency: config.concurrency });
worker.on('failed', (job, e) => console.error(`job ${job?.id} failed: ${e.message}`));

// The bench waits for /health on every service.
http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('Healthy'); })
  .listen(Number(config.url.port), config.url.hostname, () => console.log(`peer worker (concurrency ${config.concurrency}) health on ${config.url.href}`));
