// Drives the Web API sample with the official `openai` npm package: one plain and one streaming chat completion,
// then a request the server must reject. Prints one JSON object with what it saw; the test asserts on it.
// Usage: node chat.mjs <openai package folder> <base url> <model> [api key]
import { createRequire } from 'node:module';

const [packageFolder, baseURL, model, apiKey] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { OpenAI } = require(packageFolder);
const client = new OpenAI({ baseURL, apiKey: apiKey || 'unused', maxRetries: 0, timeout: 30000 });
const messages = [{ role: 'user', content: 'Hello' }];

const plain = await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0, seed: 7 });

const stream = await client.chat.completions.create({
  model, messages, max_tokens: 6, temperature: 0, seed: 7, stream: true, stream_options: { include_usage: true },
});
let streamedText = '';
let chunks = 0;
let streamFinish = null;
let streamUsage = null;
for await (const chunk of stream) {
  chunks++;
  for (const choice of chunk.choices) {
    streamedText += choice.delta?.content ?? '';
    if (choice.finish_reason) streamFinish = choice.finish_reason;
  }
  if (chunk.usage) streamUsage = chunk.usage;
}

let rejected = null;
try {
  await client.chat.completions.create({ model, messages, max_tokens: 0 });
} catch (error) {
  rejected = { status: error.status, type: error.type ?? null, param: error.param ?? null, code: error.code ?? null };
}

const models = await client.models.list();
console.log(JSON.stringify({
  plain: { id: plain.id, object: plain.object, model: plain.model, text: plain.choices[0].message.content, finish: plain.choices[0].finish_reason, usage: plain.usage },
  stream: { text: streamedText, chunks, finish: streamFinish, usage: streamUsage },
  rejected,
  models: models.data.map(m => m.id),
}));
