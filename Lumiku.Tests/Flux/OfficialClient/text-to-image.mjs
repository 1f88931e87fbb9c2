// The official @huggingface/inference client, as published on npm, asks the emulator for an image.
// node text-to-image.mjs <package entry (dist/esm/index.js)> <emulator base URL> <provider> <hf_ token> <model>
// Everything the client sends to https://router.huggingface.co goes to the emulator instead (a custom
// fetch, the only swap); the Hub's provider mapping is answered here, as huggingface.co answers it.
import { pathToFileURL } from "node:url";

const [entry, emulator, provider, token, model] = process.argv.slice(2);
const mapping = {
  "fal-ai": { providerId: "fal-ai/flux/dev", status: "live", task: "text-to-image" },
  "replicate": { providerId: "black-forest-labs/flux-dev", status: "live", task: "text-to-image" },
};
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  if (url.startsWith("https://huggingface.co/api/models/")) {
    return new Response(JSON.stringify({ id: model, inferenceProviderMapping: mapping }), { headers: { "content-type": "application/json" } });
  }
  const routed = url.replace("https://router.huggingface.co/", emulator);
  return realFetch(routed, init);
};

// The client's queue polling waits on an unref'd timer: keep the process alive while it polls.
const keepAlive = setInterval(() => {}, 1000);
const { InferenceClient } = await import(pathToFileURL(entry).href);
const client = new InferenceClient(token);
const blob = await client.textToImage({
  provider,
  model,
  inputs: "A professional headshot of a 25-year-old woman",
  parameters: { width: 512, height: 512, num_inference_steps: 4, guidance_scale: 3.5, seed: 42 },
});
const bytes = new Uint8Array(await blob.arrayBuffer());
clearInterval(keepAlive);
console.log(JSON.stringify({ bytes: bytes.length, magic: Buffer.from(bytes.subarray(0, 8)).toString("hex") }));
