#!/usr/bin/env bash
# Puts libonnxruntime.so.1 (ONNX Runtime $1) into the cache folder $2, taking it from the npm package
# onnxruntime-node, which ships the same native library as the Microsoft.ML.OnnxRuntime NuGet package.
# Safe to run concurrently: a lock serialises fetchers and the file appears atomically.
set -euo pipefail
version="${1:?usage: fetch-onnxruntime.sh VERSION CACHE_DIR}"
cache="${2:?usage: fetch-onnxruntime.sh VERSION CACHE_DIR}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) member="package/bin/napi-v6/linux/x64/libonnxruntime.so.1" ;;
  Linux-aarch64) member="package/bin/napi-v6/linux/arm64/libonnxruntime.so.1" ;;
  *) echo "fetch-onnxruntime: no ONNX Runtime binary is known for $(uname -s)-$(uname -m); set AUTOGLM_ONNXRUNTIME_PATH or build with -p:AutoGlmOnnxRuntimeSource=nuget" >&2; exit 1 ;;
esac
target="$cache/libonnxruntime.so.1"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ -s "$target" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-onnxruntime: npm is needed to obtain ONNX Runtime $version (package onnxruntime-node); install Node.js and npm, or set AUTOGLM_ONNXRUNTIME_PATH to an existing libonnxruntime.so" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetch-onnxruntime: fetching onnxruntime-node@$version with npm (one time, cached in $cache)" >&2
(cd "$work" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tar -xzf "$work/onnxruntime-node-$version.tgz" -C "$work" "$member"
cp "$work/$member" "$work/lib.tmp"
mv -f "$work/lib.tmp" "$target"
echo "fetch-onnxruntime: $target" >&2
