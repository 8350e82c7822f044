#!/usr/bin/env bash
# Compiles and lints every template and parameter file in infra/ with the pinned Bicep compiler
# (tools/bicep/bicep.csproj), warnings as errors, into dist/infra/: the ARM JSON the pipeline
# deploys and tests/infra/compiled-templates.test.ts reads. `npm run infra:check`; .ci/run runs it.
#
# The parameter files read ROGER_NAME_PREFIX, ENTRA_CLIENT_ID and ALERT_EMAIL from the environment (the
# pipeline sets them); outside the pipeline, placeholders stand in so the files still compile.
set -uo pipefail
cd "$(dirname "$0")/.."

bicep=$(tools/bicep/bicep.sh) || { echo "infra:check FAILED: no Bicep compiler"; exit 1; }
out=dist/infra
mkdir -p "$out"
export ROGER_NAME_PREFIX="${ROGER_NAME_PREFIX:-check}"
export ENTRA_CLIENT_ID="${ENTRA_CLIENT_ID:-00000000-0000-0000-0000-000000000000}"
export ALERT_EMAIL="${ALERT_EMAIL:-alerts@example.com}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0

# One compiler call; any diagnostic it prints (error, warning or info) fails the check.
run() {
  local what=$1
  shift
  if ! "$bicep" "$@" 2> "$log" || grep -qE ' : (Error|Warning|Info) ' "$log"; then
    echo "FAILED  $what"
    sed 's/^/  /' "$log"
    failed=1
  else
    echo "ok      $what"
  fi
}

"$bicep" --version
for template in infra/global.bicep infra/main.bicep; do
  name=$(basename "$template" .bicep)
  run "bicep build $template" build "$template" --outfile "$out/$name.json"
  run "bicep lint $template" lint "$template"
done
for params in infra/*.bicepparam; do
  name=$(basename "$params" .bicepparam)
  run "bicep build-params $params" build-params "$params" --outfile "$out/$name.parameters.json"
done

[ "$failed" = 0 ] || { echo "infra:check FAILED: the compiler reported the problems above (warnings count as errors)"; exit 1; }
echo "infra:check ok: every template and parameter file compiled with no diagnostic ($out/)"
