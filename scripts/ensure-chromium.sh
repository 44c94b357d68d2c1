#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the dashboard's browser test
# (test/ui/dashboard.e2e.test.ts drives /usr/bin/chromium with playwright-core;
# playwright's own browser download cannot run here: only apt and npm are
# reachable). Idempotent: nothing to do when /usr/bin/chromium exists.
set -euo pipefail

log() { echo "[ensure-chromium] $*"; }

if [[ -x /usr/bin/chromium ]]; then
  log "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) present; nothing to do"
  exit 0
fi
if [[ "$(id -u)" != 0 || ! -f /etc/debian_version ]]; then
  echo "[ensure-chromium] ERROR: /usr/bin/chromium is missing; install Debian's chromium (apt-get install chromium)" >&2
  exit 1
fi
log "apt-get install chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
log "$(/usr/bin/chromium --version)"
