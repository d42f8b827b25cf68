#!/usr/bin/env bash
# Unpacks the `openai` npm package (the official OpenAI client library, no dependencies) into the cache folder
# $1 (default ~/.cache/autoglm/npm) for the end-to-end test against the Web API sample. It stays outside the
# source tree. Safe to run concurrently: a lock serialises fetchers and the package folder appears atomically.
# Prints the package folder on stdout.
set -euo pipefail
cache="${1:-${AUTOGLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autoglm}/npm}"
spec="openai@6.30.1"  # 7.x asks for node 22; 6.x runs on node 20 and later
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
folder="$cache/$spec"
if [ ! -f "$folder/package/package.json" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-openai: npm is needed to obtain $spec for the end-to-end test; install Node.js and npm" >&2
    exit 1
  fi
  work="$(mktemp -d)"
  echo "fetch-openai: fetching $spec with npm (one time, cached in $cache)" >&2
  (cd "$work" && npm pack --silent "$spec" >/dev/null 2>&1)
  mkdir -p "$work/x"
  tar -xzf "$work"/*.tgz -C "$work/x"
  rm -rf "$folder"
  mv "$work/x" "$folder"
  rm -rf "$work"
fi
echo "$folder/package"
