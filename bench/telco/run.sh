#!/usr/bin/env bash
# Scoring on real data, the app against scikit-learn, side by side in one run (not part of CI: it measures).
# Setup: Debian's r-cran-modeldata (the IBM Watson telco churn table, MIT) and python3-sklearn; the table is
# resampled with a fixed seed to 1,000,000 rows (129 MiB) and, with --large, to 8,000,000 rows (1 GiB), in a
# temporary folder that is removed at the end. Then bench/Serverless.Bench.Scoring's 'telco' mode starts Azurite and
# the app on the local host, trains a LightGBM model (100 trees, 31 leaves) and an L-BFGS logistic regression through
# the HTTP API, and, run after run, drops the file into score-in/{model}/ and waits for its summary.json, then times
# peer.py scoring it with HistGradientBoostingClassifier and LogisticRegression. Needs npm ci and root for apt-get.
#   bench/telco/run.sh [runs] [--large]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
/usr/bin/python3 -c "import sklearn, pandas" 2>/dev/null && [ -d /usr/lib/R/site-library/modeldata ] \
  || { apt-get update -qq && apt-get install -y -qq r-cran-modeldata python3-sklearn python3-pandas; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/telco/prepare.py "$work" 1000000 $([ "${2:-}" = --large ] && echo 8000000)
/usr/bin/python3 bench/telco/peer.py train "$work"
dotnet build Serverless.sln -c Release -v q -nologo -clp:ErrorsOnly
dotnet run -c Release --no-build --project bench/Serverless.Bench.Scoring -- telco "$work" "$runs"
