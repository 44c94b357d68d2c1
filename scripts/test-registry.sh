#!/usr/bin/env bash
# A real container registry for the tests: Debian's `docker-registry` (the CNCF
# distribution registry 2.8) on 127.0.0.1 with htpasswd basic auth, storage in a
# temp dir, run as a plain background process (never the packaged systemd/init
# service, which would listen on :5000 for the whole machine). Idempotent.
#
#   bash scripts/test-registry.sh          ensure installed + running + stand-ins pushed
#   bash scripts/test-registry.sh --stop   stop the instance this script started
#
# Engine 20.10 treats 127.0.0.0/8 as an insecure registry, so it pulls over plain
# HTTP without daemon changes.
#
# What tests read: $BERTH_TEST_REGISTRY_DIR/registry.json (default dir
# /tmp/berth-test-registry):
#   { "host": "127.0.0.1:PORT", "port": PORT, "username": "...", "password": "...",
#     "dockerConfig": "<dir with a logged-in config.json>", "binary": "...", "htpasswd": "...",
#     "images": { "web:v1": "127.0.0.1:PORT/berth-test/web:v1", ... } }
# The credentials are fixed test values (test/support/secrets.ts scans for them).
#
# Env: BERTH_TEST_REGISTRY_DIR   state/storage dir (default /tmp/berth-test-registry)
#      BERTH_TEST_REGISTRY_PORT  preferred port (default 47651; the next free one is used if taken)
set -euo pipefail

log() { echo "[test-registry] $*"; }
die() { echo "[test-registry] ERROR: $*" >&2; exit 1; }

DIR="${BERTH_TEST_REGISTRY_DIR:-/tmp/berth-test-registry}"
PORT="${BERTH_TEST_REGISTRY_PORT:-47651}"
USER_NAME="berth-test"
PASSWORD="registry-password-for-e2e-4f7a"
STAND_INS=(busybox:1 web:v1 web:v2 worker:1)

mkdir -p "$DIR"
PIDFILE="$DIR/registry.pid"

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

if [[ "${1:-}" == "--stop" ]]; then
  if running; then kill "$(cat "$PIDFILE")" && log "stopped pid $(cat "$PIDFILE")"; fi
  rm -f "$PIDFILE"
  exit 0
fi

registry_bin() { command -v docker-registry || { [[ -x /usr/bin/docker-registry ]] && echo /usr/bin/docker-registry; } || true; }

# ---- install (only what is missing; never start the packaged service)
missing=()
[[ -n "$(registry_bin)" ]] || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if ((${#missing[@]} > 0)); then
  [[ "$(id -u)" == 0 && -f /etc/debian_version ]] || die "missing ${missing[*]}; install with: apt-get install -y ${missing[*]}"
  log "installing ${missing[*]}"
  # policy-rc.d 101: the package's postinst must not start the system-wide service.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"; }
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || { apt_get update -qq >/dev/null && apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  ((own_policy)) && rm -f /usr/sbin/policy-rc.d
  # Some init systems start it anyway; a system-wide registry on :5000 is not ours to keep.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then systemctl stop docker-registry || true; fi
fi
BIN="$(registry_bin)"
[[ -n "$BIN" ]] || die "docker-registry not found after install"

# ---- start (once)
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if running && [[ -f "$DIR/registry.json" ]]; then
  PORT="$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$DIR/registry.json")"
  log "already running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"
else
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  mkdir -p "$DIR/storage"
  htpasswd -Bbc "$DIR/htpasswd" "$USER_NAME" "$PASSWORD" >/dev/null 2>&1
  cat >"$DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$PORT
auth:
  htpasswd:
    realm: berth-test
    path: $DIR/htpasswd
EOF
  # setsid + nohup: it outlives this script (and the CI step that ran it).
  setsid nohup "$BIN" serve "$DIR/config.yml" >"$DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 100); do
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v2/" 2>/dev/null || true)"
    [[ "$code" == 401 ]] && break
    running || die "docker-registry exited: $(tail -5 "$DIR/registry.log")"
    sleep 0.1
  done
  [[ "$code" == 401 ]] || die "registry on 127.0.0.1:$PORT does not answer /v2/ with 401 (got $code)"
  log "started pid $(cat "$PIDFILE") on 127.0.0.1:$PORT"
fi
HOST="127.0.0.1:$PORT"

# ---- push the stand-ins, logged in through a private DOCKER_CONFIG (root's ~/.docker stays as it is)
export DOCKER_CONFIG="$DIR/docker-config"
mkdir -p "$DOCKER_CONFIG"
echo "$PASSWORD" | docker login -u "$USER_NAME" --password-stdin "$HOST" >/dev/null 2>&1 || die "docker login $HOST failed"
images_json=""
for img in "${STAND_INS[@]}"; do
  src="berth-test/$img"
  dst="$HOST/berth-test/$img"
  docker image inspect "$src" >/dev/null 2>&1 || die "$src missing: run scripts/test-images.sh first"
  # A pushed tag answers a manifest HEAD: skip the push then.
  if ! curl -sf -o /dev/null -I -u "$USER_NAME:$PASSWORD" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$HOST/v2/berth-test/${img%%:*}/manifests/${img##*:}"; then
    docker tag "$src" "$dst"
    docker push "$dst" >/dev/null
    docker rmi "$dst" >/dev/null 2>&1 || true
    log "pushed $dst"
  fi
  images_json+="${images_json:+, }\"$img\": \"$dst\""
done

cat >"$DIR/registry.json.tmp" <<EOF
{ "host": "$HOST", "port": $PORT, "username": "$USER_NAME", "password": "$PASSWORD",
  "dockerConfig": "$DOCKER_CONFIG", "binary": "$BIN", "htpasswd": "$(command -v htpasswd)",
  "images": { $images_json } }
EOF
mv "$DIR/registry.json.tmp" "$DIR/registry.json"
log "ready: $HOST (details in $DIR/registry.json)"
