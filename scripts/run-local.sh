#!/usr/bin/env bash
# Runs the app on one machine: Azurite (data in ./.azurite) and the Functions app on the local runtime at
# http://127.0.0.1:7071, then shows it working: the health check, a CSV uploaded over HTTP with a function key,
# the blob trigger processing it, and its summary. The app keeps running until Ctrl+C.
#   --smoke   stop after the demonstration (what CI runs to keep this script true)
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=false
[ "${1:-}" = "--smoke" ] && smoke=true
base=http://127.0.0.1:7071
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ ! -f node_modules/azurite/package.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
[ -f local.settings.json ] || { cp local.settings.sample.json local.settings.json; echo "Created local.settings.json from local.settings.sample.json"; }

if (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
  echo "Azurite (or another storage emulator) already listens on 10000; using it."
else
  mkdir -p .azurite
  node node_modules/azurite/dist/src/azurite.js --silent --location .azurite --skipApiVersionCheck --loose --disableTelemetry &
  pids+=($!)
fi

# A function key for this run, unless one is set; it is printed so you can call the app yourself.
export LocalHost__Keys__Function="${LocalHost__Keys__Function:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}"
dotnet build src/Serverless.Functions -c Release -v q -nologo
dotnet src/Serverless.Functions/bin/Release/net10.0/Serverless.Functions.dll &
pids+=($!)

for _ in $(seq 1 120); do
  curl -fs "$base/api/health" >/dev/null 2>&1 && break
  sleep 0.5
done
echo; echo "== GET $base/api/health"
curl -fsS "$base/api/health"; echo

name="demo/$(date -u +%Y%m%dT%H%M%SZ)-customers.csv"
echo; echo "== PUT $base/api/scoring/inputs/$name  (x-functions-key: $LocalHost__Keys__Function)"
curl -fsS -X PUT -H "x-functions-key: $LocalHost__Keys__Function" --data-binary @samples/scoring/customers.csv "$base/api/scoring/inputs/$name"; echo

echo; echo "== GET $base/api/scoring/results/$name  (written by the blob trigger on score-in/)"
for _ in $(seq 1 60); do
  if summary=$(curl -fs -H "x-functions-key: $LocalHost__Keys__Function" "$base/api/scoring/results/$name"); then
    echo "$summary"; break
  fi
  sleep 0.5
done
[ -n "${summary:-}" ] || { echo "No summary after 30 s; see the log above." >&2; exit 1; }

if $smoke; then
  echo; echo "Smoke run finished."
  exit 0
fi
echo; echo "The app runs at $base (function key above). Ctrl+C stops it and Azurite."
wait "${pids[-1]}"
