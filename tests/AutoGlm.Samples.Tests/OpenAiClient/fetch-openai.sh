#!/usr/bin/env bash
# Unpacks the `openai` npm package (the official OpenAI client library, no dependencies) into the cache folder
# $1 (default ~/.cache/autoglm/npm) for the end-to-end test against the Web API sample, through the shared
# build/fetch-npm-packages.sh (copied next to this script in the test output). Prints the package folder.
set -euo pipefail
cache="${1:-${AUTOGLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/autoglm}/npm}"
spec="openai@6.30.1"  # 7.x asks for node 22; 6.x runs on node 20 and later
bash "$(dirname "$0")/fetch-npm-packages.sh" "$cache" "$spec" >/dev/null
echo "$cache/$spec/package"
