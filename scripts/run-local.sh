#!/usr/bin/env bash
# Runs the app on one machine: Azurite (data in ./.azurite) and the Functions app on the local host
# (src/Serverless.LocalHost, in the role of Core Tools' 'func start') at http://127.0.0.1:7071, then runs the main job end to end: a training dataset uploaded over HTTP, a durable
# training run (ingest, sweep, evaluation, registration as champion) followed to its end, an online prediction,
# and a CSV dropped for scoring with its predictions. The app keeps running until Ctrl+C.
#   --smoke   stop after the demonstration (what CI runs to keep this script true)
set -euo pipefail
cd "$(dirname "$0")/.."
smoke=false
[ "${1:-}" = "--smoke" ] && smoke=true
base=http://127.0.0.1:7071
pids=()
# The host stops first (it releases its Durable leases in Azurite), then Azurite.
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
  rm -f "${log:-}"
}
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

dotnet build src/Serverless.LocalHost -c Release -v q -nologo -clp:ErrorsOnly   # NU1603 (a newer patch served) is expected
log=$(mktemp)
dotnet src/Serverless.LocalHost/bin/Release/net10.0/Serverless.LocalHost.dll > >(tee "$log") 2>&1 &
pids+=($!)

for _ in $(seq 1 120); do
  curl -fs "$base/api/health" >/dev/null 2>&1 && break
  sleep 0.5
done
echo; echo "== GET $base/api/health"
curl -fsS "$base/api/health"; echo

# The function key the host printed: yours if you set LocalHost__Keys__Function, else the one it generated on its
# first start and keeps in Azurite (azure-webjobs-secrets/serverless-functions/host.json), the same across restarts.
function_key=$(sed -n 's/.*Function key (x-functions-key header or ?code=), from .*: //p' "$log" | head -n 1)
[ -n "$function_key" ] || { echo "The host printed no function key; see its log above." >&2; exit 1; }

# Reads a field from JSON on stdin (Node is here anyway, for Azurite): field a.b.c
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];console.log(typeof v==="object"?JSON.stringify(v):v??"")})' "$1"; }
key=(-H "x-functions-key: $function_key")

echo; echo "== PUT $base/api/datasets/churn.csv  (x-functions-key: $function_key)"
curl -fsS -X PUT "${key[@]}" --data-binary @samples/training/churn.csv "$base/api/datasets/churn.csv"; echo

echo; echo "== POST $base/api/models/churn/train  (a durable run: ingest, sweep, evaluate, register)"
started=$(curl -fsS -X POST "${key[@]}" -H "Content-Type: application/json" --data @samples/training/request.json "$base/api/models/churn/train")
echo "$started"
status_url=$(echo "$started" | field statusQueryGetUri)
for _ in $(seq 1 600); do
  status=$(curl -sS "$status_url")
  runtime=$(echo "$status" | field runtimeStatus)
  echo "   $runtime $(echo "$status" | field customStatus)"
  case "$runtime" in Completed|Failed|Terminated) break ;; esac
  sleep 1
done
echo "$status" | field output
[ "$runtime" = Completed ] || { echo "The training run ended $runtime; see the log above." >&2; exit 1; }
run_id=$(echo "$status" | field instanceId)
echo "Report: $base/api/runs/$run_id/report?code=$function_key"

echo; echo "== POST $base/api/models/churn/predict  (online, the champion version)"
curl -fsS -X POST "${key[@]}" -H "Content-Type: application/json" \
  --data '{"rows":[{"age":23,"tenure_months":3,"plan":"basic","monthly_spend":19.9,"support_calls":5,"region":"east","notes":"asked about cancellation"},{"age":52,"tenure_months":70,"plan":"premium","monthly_spend":99,"support_calls":0,"region":"north"}]}' \
  "$base/api/models/churn/predict"; echo

name="churn/$(date -u +%Y%m%dT%H%M%SZ)-customers.csv"
echo; echo "== PUT $base/api/scoring/inputs/$name  (score-in/{model}/: the blob trigger scores it with the champion)"
curl -fsS -X PUT "${key[@]}" --data-binary @samples/scoring/customers.csv "$base/api/scoring/inputs/$name"; echo

echo; echo "== GET $base/api/scoring/results/$name"
# The upload marks the summary "pending" and the trigger "scoring"; wait for the outcome.
summary=
for _ in $(seq 1 60); do
  if current=$(curl -fs "${key[@]}" "$base/api/scoring/results/$name"); then
    case "$(echo "$current" | field status)" in
      pending|scoring) ;;
      *) summary=$current; echo "$summary"; break ;;
    esac
  fi
  sleep 0.5
done
[ -n "${summary:-}" ] || { echo "No outcome in the summary after 30 s; see the log above." >&2; exit 1; }
[ "$(echo "$summary" | field status)" = scored ] || { echo "The file was not scored; see the summary." >&2; exit 1; }
echo; echo "== GET $base/api/scoring/results/$name?file=predictions.csv"
curl -fsS "${key[@]}" "$base/api/scoring/results/$name?file=predictions.csv"

if $smoke; then
  echo; echo "Smoke run finished."
  exit 0
fi
echo; echo "The app runs at $base (function key above). Ctrl+C stops it and Azurite."
echo "Dashboard: $base/api/ui/ (paste the function key when it asks). API: $base/api/openapi.json"
wait "${pids[-1]}"
