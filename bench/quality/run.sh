#!/usr/bin/env bash
# The quality benchmark (not part of CI: it measures). prepare.py exports twelve real public datasets from Debian's R
# packages (r-cran-modeldata, r-cran-mlbench, r-cran-aer), writes seeded train/test splits and fits scikit-learn's
# three peers (python3-sklearn, python3-pandas); then bench/Serverless.Bench.Quality starts Azurite and the app on
# the local host and, per split, trains through the HTTP API with the defaults and tests the registered version.
# The data stays in a temporary folder, removed at the end. Needs npm ci (Azurite) and root for apt-get.
#   bench/quality/run.sh [NAME ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
/usr/bin/python3 -c "import sklearn, pandas" 2>/dev/null \
  && [ -d /usr/lib/R/site-library/modeldata ] && [ -d /usr/lib/R/site-library/mlbench ] && [ -d /usr/lib/R/site-library/AER ] \
  || { apt-get update -qq && apt-get install -y -qq r-cran-modeldata r-cran-mlbench r-cran-aer python3-sklearn python3-pandas; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 bench/quality/prepare.py "$work" "$@"
dotnet build bench/Serverless.Bench.Quality -c Release -v q -nologo -clp:ErrorsOnly
dotnet run -c Release --no-build --project bench/Serverless.Bench.Quality -- "$work" "$@"
