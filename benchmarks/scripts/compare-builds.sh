#!/usr/bin/env bash
# Compares two builds of the autoglm tool on the same model folders, contenders alternating, as separate processes
# (for changes that cannot live side by side in one process, such as the ONNX Runtime binding). Each round runs
# `autoglm bench --concurrency 1` with every build in turn; the report gives the median over rounds of decode tok/s
# and inter-token p50/p95, the ratio B/A, and the load average before and after.
#
#   benchmarks/scripts/compare-builds.sh A_NAME A_DLL B_NAME B_DLL ROUNDS OUT.md MODEL...
#
# Extra environment for build A or B: A_ENV / B_ENV (e.g. A_ENV="AUTOGLM_ONNXRUNTIME_PATH=/x/libonnxruntime.so").
set -euo pipefail
a_name="$1"; a_dll="$2"; b_name="$3"; b_dll="$4"; rounds="$5"; out="$6"; shift 6
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
load_before="$(cat /proc/loadavg)"
for model in "$@"; do
  for round in $(seq 1 "$rounds"); do
    for side in a b; do
      if [ "$side" = a ]; then dll="$a_dll"; extra="${A_ENV:-}"; else dll="$b_dll"; extra="${B_ENV:-}"; fi
      env $extra dotnet "$dll" bench --model "$model" --concurrency 1 --prompt-tokens 64 --new-tokens 128 --threads 2 --json \
        > "$work/$(basename "$model")-$side-$round.json"
    done
  done
done
load_after="$(cat /proc/loadavg)"
python3 - "$work" "$a_name" "$b_name" "$rounds" "$load_before" "$load_after" "$out" "$@" <<'PY'
import json, statistics, sys, os
work, a, b, rounds, lb, la, out, *models = sys.argv[1:]
rounds = int(rounds)
lines = [f"# {b} vs {a}: batch-1 decode, contenders alternating", "",
         f"`autoglm bench --concurrency 1 --prompt-tokens 64 --new-tokens 128 --threads 2`, {rounds} rounds per model, each round runs {a} then {b} as separate processes; medians over rounds.",
         f"Load average before: `{lb}`; after: `{la}` (2 cores).", "",
         f"| model | {a} tok/s | {b} tok/s | {b}/{a} | {a} ITL p50 / p95 ms | {b} ITL p50 / p95 ms | per-round {b}/{a} |", "|---|---:|---:|---:|---:|---:|---|"]
for m in models:
    name = os.path.basename(m.rstrip('/'))
    def runs(side):
        r = []
        for i in range(1, rounds + 1):
            with open(f"{work}/{name}-{side}-{i}.json") as f:
                lvl = json.load(f)["levels"][0]
            r.append(lvl)
        return r
    ra, rb = runs("a"), runs("b")
    ta = statistics.median(x["tokens_per_second"] for x in ra); tb = statistics.median(x["tokens_per_second"] for x in rb)
    pa = statistics.median(x["inter_token_ms_p50"] for x in ra); qa = statistics.median(x["inter_token_ms_p95"] for x in ra)
    pb = statistics.median(x["inter_token_ms_p50"] for x in rb); qb = statistics.median(x["inter_token_ms_p95"] for x in rb)
    per = ", ".join(f"{y['tokens_per_second']/x['tokens_per_second']:.3f}" for x, y in zip(ra, rb))
    lines.append(f"| {name} | {ta:.1f} | {tb:.1f} | {tb/ta:.3f} | {pa:.2f} / {qa:.2f} | {pb:.2f} / {qb:.2f} | {per} |")
text = "\n".join(lines) + "\n"
print(text)
open(out, "w").write(text)
PY
