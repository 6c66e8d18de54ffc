#!/usr/bin/env bash
# Builds and lints every Bicep file under infra-bicep/ with the Bicep CLI (restored from NuGet, pinned in
# eng/bicep/BicepCli.csproj). Fails on any error or warning. Prints the CLI path with --print-path.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's:.*<BicepVersion>\(.*\)</BicepVersion>.*:\1:p' eng/bicep/BicepCli.csproj)
dotnet restore eng/bicep/BicepCli.csproj -v q -nologo >/dev/null
packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
bicep="${packages%/}/azure.bicep.commandline.linux-x64/${version}/tools/bicep"
chmod +x "$bicep"
if [ "${1:-}" = "--print-path" ]; then echo "$bicep"; exit 0; fi

"$bicep" --version
problems=0
while IFS= read -r file; do
  output=$({ "$bicep" build "$file" --stdout >/dev/null && "$bicep" lint "$file"; } 2>&1) || problems=$((problems + 1))
  if [ -n "$output" ]; then
    echo "$output" | sort -u
    problems=$((problems + 1))
  else
    echo "ok   $file"
  fi
done < <(find infra-bicep -name '*.bicep' | sort)

if [ "$problems" -gt 0 ]; then
  echo "Bicep: $problems file(s) with errors or warnings." >&2
  exit 1
fi
