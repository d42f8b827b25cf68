#!/usr/bin/env bash
# Builds the solution (Release) and runs every test project; ends with `tests: N passed, N failed[, N skipped]`.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Tokenization").
set -uo pipefail
cd "$(dirname "$0")"
results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

if ! dotnet build AutoGlm.sln -c Release -nologo -v minimal; then
  echo "tests: 0 passed, 1 failed (the build failed)"
  exit 1
fi

dotnet test AutoGlm.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
rc=$?

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  # The run-level <ResultSummary outcome="..."> is not a test result; count only <UnitTestResult> outcomes.
  p=$(grep -o '<UnitTestResult [^>]*outcome="Passed"' "$trx" | wc -l)
  f=$(grep -o '<UnitTestResult [^>]*outcome="Failed"' "$trx" | wc -l)
  s=$(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done

if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A test host that crashed or a project that failed to run leaves no failed result behind; count it.
  echo "dotnet test exited with $rc without a failed test result (a test host crashed or a run aborted)" >&2
  failed=1
fi
if [ "$failed" -gt 0 ]; then
  # Name the failures next to the summary: CI logs are often read from the end.
  echo "failed tests:"
  for trx in "$results"/*.trx; do
    [ -e "$trx" ] || continue
    grep -o '<UnitTestResult [^>]*outcome="Failed"' "$trx" | sed -E 's/.*testName="([^"]*)".*/  \1/' | cut -c1-240
  done
fi
summary="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ]
