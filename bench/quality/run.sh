#!/usr/bin/env bash
# The quality benchmark: scikit-learn (Debian's python3-sklearn) writes the datasets, one shared split and its own
# test metrics; then this project's sweep runs on the same split. Needs npm ci (Azurite) and root for apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."
/usr/bin/python3 -c "import sklearn" 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-sklearn; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 bench/quality/peer.py "$out" > /dev/null
dotnet run -c Release --project bench/Serverless.Bench.Quality -- "$out"
