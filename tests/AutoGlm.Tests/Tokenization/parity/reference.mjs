// Reference outputs for AutoGlm's parity tests. Usage: node reference.mjs NPM_CACHE REQUEST.json
// The request: { "tokenizer": { "json": path, "config": path|null, "texts": [..] },
//                "templates": [ { "source": text, "context": {..} } ] }  (both parts optional).
// Prints { "encodings": [ { "ids": [..], "decoded": text } ], "renders": [ { "text": .. } | { "error": .. } ] }.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [cache, requestPath] = process.argv.slice(2);
const load = (folder, file) => import(pathToFileURL(path.join(cache, folder, "package", "dist", file)).href);
const request = JSON.parse(readFileSync(requestPath, "utf8"));
const result = { encodings: [], renders: [] };

if (request.tokenizer) {
  const { Tokenizer } = await load("@huggingface+tokenizers@0.2.0", "tokenizers.mjs");
  const json = JSON.parse(readFileSync(request.tokenizer.json, "utf8"));
  const config = request.tokenizer.config ? JSON.parse(readFileSync(request.tokenizer.config, "utf8")) : {};
  const tokenizer = new Tokenizer(json, config);
  for (const text of request.tokenizer.texts) {
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    const decoded = tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
    result.encodings.push({ ids, decoded });
  }
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

process.stdout.write(JSON.stringify(result));
