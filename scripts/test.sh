#!/usr/bin/env bash
# Runs every test in the solution: unit tests, HTTP tests on Kestrel, integration tests on a real Azurite that the
# tests start themselves from ./node_modules, and the dashboard in a headless chromium. Installs Azurite (npm ci) and
# Debian's chromium (apt) when they are missing; screenshots of the dashboard go to artifacts/dashboard/.
# Extra arguments go to 'dotnet test' (for example: --filter "FullyQualifiedName~Blob").
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/azurite/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# The dashboard's browser test drives Debian's chromium (headless); install it when the machine lacks it.
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the dashboard's browser test..."
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
dotnet test Serverless.sln -c Release --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=$?

# One closing line over all test assemblies, from the TRX counters.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" || true)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
echo
echo "Tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
