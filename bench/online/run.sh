#!/usr/bin/env bash
# Online predictions at service scale, measured with wrk (Debian's package) against the app on the local host:
# Azurite in a temporary folder, the host on port 7095 with a fixed key, the sample model trained, then
#   1. single-row requests at full speed from 1 and 8 connections,
#   2. single-row requests paced to about 1,000 requests/s (wrk's delay(), 1 ms between requests per connection),
#   3. batches of 1,000 rows from 1 connection.
#   4. from an upload's answer (PUT /api/scoring/inputs/...) to its summary.json saying 'scored', a 1,000-row file, 10 times.
# Prints wrk's throughput and latency percentiles, and the upload-to-summary times. Not part of CI (it measures).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
port=7095 key=bench-key work=$(mktemp -d)
pids=()
cleanup() { for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT INT TERM

node node_modules/azurite/dist/src/azurite.js --silent --skipApiVersionCheck --loose --disableTelemetry --location "$work/azurite" \
  --blobPort 11100 --queuePort 11101 --tablePort 11102 &
pids+=($!)
account="AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
dotnet build src/Serverless.LocalHost -c Release -v q -nologo -clp:ErrorsOnly
env AzureWebJobsStorage="DefaultEndpointsProtocol=http;$account;BlobEndpoint=http://127.0.0.1:11100/devstoreaccount1;QueueEndpoint=http://127.0.0.1:11101/devstoreaccount1;TableEndpoint=http://127.0.0.1:11102/devstoreaccount1;" \
  TASKHUB_NAME=OnlineBench RetrainSchedule="0 0 3 * * *" LocalHost__Keys__Function=$key LocalHost__Http__Port=$port \
  dotnet src/Serverless.LocalHost/bin/Release/net10.0/Serverless.LocalHost.dll > "$work/host.log" 2>&1 &
pids+=($!)
base=http://127.0.0.1:$port/api
for _ in $(seq 1 120); do curl -fs "$base/health" >/dev/null 2>&1 && break; sleep 0.5; done

curl -fsS -X PUT -H "x-functions-key: $key" --data-binary @samples/training/churn.csv "$base/datasets/churn.csv" >/dev/null
status=$(curl -fsS -X POST -H "x-functions-key: $key" -H "Content-Type: application/json" --data @samples/training/request.json "$base/models/churn/train" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["statusQueryGetUri"])')
until curl -fs "$status" | grep -q '"runtimeStatus":"Completed"'; do sleep 1; done

python3 - "$work" <<'PY'
import json, random, sys
random.seed(1)
row = lambda: {"age": random.randint(18, 80), "tenure_months": random.randint(0, 72), "plan": random.choice(["basic", "standard", "premium"]),
               "support_calls": random.randint(0, 9), "monthly_spend": round(random.uniform(5, 120), 2), "region": random.choice(["north", "south", "east", "west"]), "notes": "none"}
json.dump({"rows": [row()]}, open(f"{sys.argv[1]}/one.json", "w"))
json.dump({"rows": [row() for _ in range(1000)]}, open(f"{sys.argv[1]}/thousand.json", "w"))
PY
script() { # body file, delay in ms (0: none)
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["x-functions-key"] = "%s"\n' "$key"
  printf 'local f = io.open("%s", "r"); wrk.body = f:read("*a"); f:close()\n' "$1"
  [ "$2" -gt 0 ] && printf 'function delay() return %s end\n' "$2"
  return 0
}
script "$work/one.json" 0 > "$work/one.lua"; script "$work/one.json" 1 > "$work/paced.lua"; script "$work/thousand.json" 0 > "$work/thousand.lua"
url="$base/models/churn/predict"
curl -fsS -X POST -H "x-functions-key: $key" -H "Content-Type: application/json" --data @"$work/one.json" "$url" >/dev/null
run() { echo "== $1"; wrk "${@:2}" --latency "$url" | grep -E "Requests/sec|Non-2xx|  50%|  90%|  99%"; }
run "1 row, 1 connection, full speed" -t1 -c1 -d15s -s "$work/one.lua"
run "1 row, 8 connections, full speed" -t2 -c8 -d15s -s "$work/one.lua"
run "1 row, 1 connection, paced (1 ms between requests)" -t1 -c1 -d15s -s "$work/paced.lua"
run "1,000 rows a request, 1 connection" -t1 -c1 -d15s -s "$work/thousand.lua"

echo "== 1,000-row file: upload answered -> summary 'scored' (10 uploads)"
python3 - "$base" "$key" <<'PY'
import json, random, statistics, sys, time, urllib.request
base, key = sys.argv[1], sys.argv[2]
random.seed(2)
lines = ["customer_id,age,tenure_months,plan,support_calls,monthly_spend,region,notes"]
lines += [f"C{i},{random.randint(18, 80)},{random.randint(0, 72)},{random.choice(['basic', 'standard', 'premium'])},{random.randint(0, 9)},"
          f"{random.uniform(5, 120):.2f},{random.choice(['north', 'south'])},none" for i in range(1000)]
body = ("\n".join(lines) + "\n").encode()
def call(method, path, data=None):
    request = urllib.request.Request(f"{base}/{path}", data=data, method=method, headers={"x-functions-key": key})
    with urllib.request.urlopen(request) as response:
        return response.read()
times = []
for n in range(10):
    call("PUT", f"scoring/inputs/churn/latency-{n}.csv", body)
    start = time.perf_counter()
    while json.loads(call("GET", f"scoring/results/churn/latency-{n}.csv"))["status"] != "scored":
        time.sleep(0.005)
    times.append(time.perf_counter() - start)
print("seconds:", " ".join(f"{t:.3f}" for t in times), f"| median {statistics.median(times):.3f}, max {max(times):.3f}")
PY
