#!/usr/bin/env bash
# The hookproof GitHub Action's step (action.yml): installs hookproof at the
# action's own ref, runs certify, appends summary.md to the job summary,
# writes the outputs and exits with certify's code. Its inputs arrive as
# HOOKPROOF_* variables, which hookproof reads itself, plus:
#   HOOKPROOF_ACTION_REF   the action's ref, stamped as hookproof's version
#   HOOKPROOF_ACTION_DEMO  "true": certify the built-in reference receiver
#   HOOKPROOF_ACTION_ARGS  further certify arguments (split on spaces)
#   HOOKPROOF_BIN          an installed hookproof to use instead of building one
set -uo pipefail

action_dir=$(cd "$(dirname "$0")/.." && pwd)
: "${GITHUB_OUTPUT:?GITHUB_OUTPUT must be set}"
export HOOKPROOF_REPORT_DIR=${HOOKPROOF_REPORT_DIR:-hookproof-report}
report_dir=$HOOKPROOF_REPORT_DIR

bin=${HOOKPROOF_BIN:-}
if [[ -z $bin ]]; then
  # The action's checkout is the source at its own ref: build that, so the
  # action and the hookproof it runs are always the same version.
  bindir=${RUNNER_TEMP:-$(mktemp -d)}/hookproof-bin
  ref=${HOOKPROOF_ACTION_REF:-}
  ldflags="-s -w"
  [[ -n $ref ]] && ldflags+=" -X github.com/hookproof/hookproof/harness.Version=$ref"
  echo "hookproof action: building hookproof ${ref:-(local checkout)}"
  if ! (cd "$action_dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bindir/hookproof" ./cmd/hookproof); then
    echo "error=could not build hookproof" >>"$GITHUB_OUTPUT"
    echo "verdict=error" >>"$GITHUB_OUTPUT"
    exit 2
  fi
  bin=$bindir/hookproof
fi
"$bin" --version

args=(certify --color never)
if [[ ${HOOKPROOF_ACTION_DEMO:-false} == true ]]; then
  args+=(--demo)
fi
if [[ -n ${HOOKPROOF_ACTION_ARGS:-} ]]; then
  read -r -a extra <<<"$HOOKPROOF_ACTION_ARGS"
  args+=("${extra[@]}")
fi

"$bin" "${args[@]}"
code=$?

json=$report_dir/report.json
verdict=error
if [[ -f $json ]]; then
  # The top-level "verdict" is the only key of that name in report.json.
  v=$(grep -o -m1 '"verdict": *"[a-z]*"' "$json" | sed 's/.*"\([a-z]*\)"$/\1/')
  [[ -n $v ]] && verdict=$v
fi
if [[ -f $report_dir/summary.md && -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  cat "$report_dir/summary.md" >>"$GITHUB_STEP_SUMMARY"
fi
{
  echo "verdict=$verdict"
  echo "exit-code=$code"
  echo "report-dir=$report_dir"
  echo "report-json=$json"
  echo "junit=$report_dir/junit.xml"
  echo "summary=$report_dir/summary.md"
  echo "html=$report_dir/report.html"
} >>"$GITHUB_OUTPUT"
echo "hookproof action: verdict $verdict (exit $code)"
exit "$code"
