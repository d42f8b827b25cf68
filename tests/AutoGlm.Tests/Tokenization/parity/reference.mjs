// Reference outputs for AutoGlm's parity tests. Usage: node reference.mjs NPM_CACHE REQUEST.json
// The request: { "tokenizer": { "json": path, "config": path|null, "texts": [..] },
//                "tokenizers": [ { "json": .., "config": .., "texts": [..] }, .. ],
//                "templates": [ { "source": text, "context": {..} } ],
//                "sentencepiece": [ { "model": path, "texts": [..] } ] }  (every part optional).
// Prints { "encodings": [ { "ids": [..], "decoded": text } ], "tokenizers": [ [ { "ids", "decoded" }, .. ], .. ],
//          "renders": [ { "text": .. } | { "error": .. } ], "sentencepiece": [ [ { "ids", "pieces", "decoded" }, .. ], .. ] }.
// "sentencepiece" runs the SentencePiece library itself (compiled to WebAssembly, @sctg/sentencepiece-js).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [cache, requestPath] = process.argv.slice(2);
const load = (folder, file) => import(pathToFileURL(path.join(cache, folder, "package", "dist", file)).href);
const request = JSON.parse(readFileSync(requestPath, "utf8"));
const result = { encodings: [], tokenizers: [], renders: [], sentencepiece: [] };

async function encodeAll({ json: jsonPath, config: configPath, texts, decodes }) {
  const { Tokenizer } = await load("@huggingface+tokenizers@0.2.0", "tokenizers.mjs");
  const json = JSON.parse(readFileSync(jsonPath, "utf8"));
  const config = configPath ? JSON.parse(readFileSync(configPath, "utf8")) : {};
  const tokenizer = new Tokenizer(json, config);
  const encoded = texts.map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const decoded = tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    return { ids, decoded };
  });
  // Optional id sequences to decode (entries appended after the texts' as { ids, decoded }).
  for (const ids of decodes ?? []) {
    encoded.push({ ids, decoded: tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) });
  }
  return encoded;
}

if (request.tokenizer) {
  result.encodings = await encodeAll(request.tokenizer);
}

for (const entry of request.tokenizers ?? []) {
  result.tokenizers.push(await encodeAll(entry));
}

if (request.templates) {
  const { Template } = await load("@huggingface+jinja@0.5.11", "index.js");
  for (const { source, context } of request.templates) {
    try {
      result.renders.push({ text: new Template(source).render(context) });
    } catch (e) {
      result.renders.push({ error: String(e && e.message ? e.message : e) });
    }
  }
}

for (const { model, texts, decodes } of request.sentencepiece ?? []) {
  const { SentencePieceProcessor } = await import(pathToFileURL(path.join(cache, "@sctg+sentencepiece-js@1.3.3", "package", "dist", "index.js")).href);
  const processor = new SentencePieceProcessor();
  await processor.load(model);
  const encoded = texts.map((text) => {
    const ids = processor.encodeIds(text);
    return { ids, pieces: processor.encodePieces(text), decoded: processor.decodeIds(ids) };
  });
  for (const ids of decodes ?? []) {
    encoded.push({ ids, decoded: processor.decodeIds(ids) });
  }
  result.sentencepiece.push(encoded);
}

process.stdout.write(JSON.stringify(result));
