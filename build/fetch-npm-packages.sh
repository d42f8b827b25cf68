#!/usr/bin/env bash
# Unpacks npm packages into a cache folder outside the source tree, for tests that run reference JavaScript
# (tokenizer and template parity, the OpenAI client end-to-end test).
# Usage: fetch-npm-packages.sh CACHE_DIR SPEC...   (SPEC like @huggingface/jinja@0.5.11)
# Each package lands in CACHE_DIR/<spec with '/' as '+'>/package. Safe to run concurrently: a lock serialises
# fetchers and each package folder appears atomically. Prints CACHE_DIR on stdout.
set -euo pipefail
cache="${1:?usage: fetch-npm-packages.sh CACHE_DIR SPEC...}"
shift
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
for spec in "$@"; do
  folder="$cache/$(echo "$spec" | tr '/' '+')"
  [ -f "$folder/package/package.json" ] && continue
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-npm-packages: npm is needed to obtain $spec; install Node.js and npm" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  echo "fetch-npm-packages: fetching $spec with npm (one time, cached in $cache)" >&2
  (cd "$work" && npm pack --silent "$spec" >/dev/null 2>&1)
  mkdir -p "$work/x"
  tar -xzf "$work"/*.tgz -C "$work/x"
  rm -rf "$folder"
  mv "$work/x" "$folder"
  rm -rf "$work"
done
echo "$cache"
