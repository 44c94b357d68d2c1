#!/usr/bin/env bash
# `npm run quickstart`: build berth, make sure a Docker engine and the
# berth-test/* stand-in images exist, then run berth on desired-state/.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n[quickstart] %s\n' "$*"; }

if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  step "npm install"
  npm install
else
  step "node_modules up to date; skipping npm install"
fi

step "npm run build"
npm run build

step "Docker engine"
bash scripts/ensure-docker.sh

step "stand-in images"
bash scripts/test-images.sh

CLI=(node dist/bundle/main.js)

step "berth validate --repo desired-state"
set +e
"${CLI[@]}" validate --repo desired-state
rc=$?
set -e
if ((rc != 0)); then
  step "validate FAILED (exit $rc)"
  exit "$rc"
fi
step "validate OK"

# ---------------------------------------------------------------------------
# PLAN / APPLY: runs by itself once the CLI has a `plan` command (it checks
# `--help`), so this script needs no edit when plan/apply land.
# ---------------------------------------------------------------------------
HELP="$("${CLI[@]}" --help 2>/dev/null || true)"
if grep -qE '^[[:space:]]+plan\b' <<<"$HELP"; then
  step "berth plan --repo desired-state"
  # contract: 0 in sync, 2 changes pending, 1 error
  set +e
  "${CLI[@]}" plan --repo desired-state
  rc=$?
  set -e
  case "$rc" in
    0) step "plan: host already in sync" ;;
    2) step "plan: changes pending" ;;
    *) step "plan FAILED (exit $rc)"; exit "$rc" ;;
  esac
  if grep -qE '^[[:space:]]+apply\b' <<<"$HELP"; then
    step "berth apply --repo desired-state"
    "${CLI[@]}" apply --repo desired-state
  fi
else
  step "plan/apply not available in this build yet; stopping after validate"
fi

# ---------------------------------------------------------------------------
# RUN: the controller in the foreground, with its dashboard. Ctrl-C (SIGINT)
# reaches berth itself (exec), which finishes the current step and exits 0.
# BERTH_QUICKSTART_NO_RUN=1 stops here instead (scripts, CI).
# ---------------------------------------------------------------------------
if [[ -n "${BERTH_QUICKSTART_NO_RUN:-}" ]]; then
  step "BERTH_QUICKSTART_NO_RUN set; not starting berth run"
  exit 0
fi
LISTEN="${BERTH_LISTEN:-127.0.0.1:9090}"
step "berth run --repo desired-state --listen $LISTEN"
step "dashboard: http://$LISTEN/   (Ctrl-C stops berth)"
exec "${CLI[@]}" run --repo desired-state --listen "$LISTEN"
