#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`. Idempotent.
#
#  1. If `docker info` works (DOCKER_HOST or /var/run/docker.sock): done.
#  2. Otherwise, only as root on Debian: apt-get install whatever of
#     docker.io / busybox-static / iptables / docker-compose is missing
#     (apt is skipped entirely when all commands are present), then start
#     dockerd in the background (nohup + setsid, so it outlives this script)
#     and wait up to BERTH_DOCKER_WAIT (default 60) seconds for `docker info`.
#  3. If dockerd dies on start, read its log and retry with the sandbox
#     fallbacks the log asks for (vfs storage, no iptables, cgroupfs driver).
#  4. Not root / not Debian and no engine: say what to install, exit 1.
#
# Env: BERTH_DOCKERD_ARGS  extra flags passed to dockerd on every attempt
#      BERTH_DOCKER_WAIT   seconds to wait per start attempt (default 60)
set -euo pipefail

log() { echo "[ensure-docker] $*"; }
die() { echo "[ensure-docker] ERROR: $*" >&2; exit 1; }

WAIT_SECS="${BERTH_DOCKER_WAIT:-60}"

engine_ok() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_ok; then
  log "engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')); nothing to do"
  exit 0
fi

# A DOCKER_HOST pointing somewhere else is not ours to start.
if [[ -n "${DOCKER_HOST:-}" && "${DOCKER_HOST}" != "unix:///var/run/docker.sock" && "${DOCKER_HOST}" != "unix:///run/docker.sock" ]]; then
  die "DOCKER_HOST=${DOCKER_HOST} does not answer 'docker info'; start that engine or unset DOCKER_HOST"
fi

if [[ "$(id -u)" != 0 || ! -f /etc/debian_version ]]; then
  cat >&2 <<'EOF'
[ensure-docker] ERROR: no Docker engine answers `docker info`, and this script
[ensure-docker] only installs/starts one when run as root on Debian.
[ensure-docker] Install and start Docker yourself, e.g. on Debian/Ubuntu:
[ensure-docker]   sudo apt-get install -y docker.io busybox-static iptables docker-compose
[ensure-docker]   sudo systemctl start docker     # or: sudo dockerd &
[ensure-docker] (elsewhere: Docker Engine or Docker Desktop, plus a static busybox),
[ensure-docker] and make sure your user can reach the socket (group 'docker')
[ensure-docker] or set DOCKER_HOST. Then re-run.
EOF
  exit 1
fi

# --- packages -------------------------------------------------------------
static_busybox() {
  local bb
  bb="$(command -v busybox 2>/dev/null)" || return 1
  # test-images.sh copies busybox into images that have no libc: it must be static.
  # (ldd exits 1 on static binaries: capture first, pipefail would see that)
  local out
  out="$(LC_ALL=C ldd "$bb" 2>&1 || true)"
  grep -qiE 'not a dynamic|statically linked' <<<"$out"
}

pkgs=()
command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
command -v docker >/dev/null 2>&1 || pkgs+=(docker.io)
static_busybox || pkgs+=(busybox-static)
command -v iptables >/dev/null 2>&1 || pkgs+=(iptables)
command -v docker-compose >/dev/null 2>&1 || pkgs+=(docker-compose)

if ((${#pkgs[@]})); then
  # de-duplicate
  mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
  log "installing: ${pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  hash -r
  # On a host with systemd the package starts the service itself.
  if engine_ok; then
    log "engine answers after install; done"
    exit 0
  fi
else
  log "dockerd, docker, busybox (static), iptables, docker-compose present; skipping apt"
fi

# --- start dockerd ---------------------------------------------------------
LOG_FILE=/var/log/berth-dockerd.log
if ! { : >>"$LOG_FILE"; } 2>/dev/null; then
  LOG_FILE=/tmp/berth-dockerd.log
fi

dockerd_pid() {
  local pid
  pid="$(cat /var/run/docker.pid 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Wait for the engine; returns 0 when it answers, 1 when dockerd died or timed out.
wait_engine() {
  local pid="$1" deadline=$((SECONDS + WAIT_SECS))
  while ((SECONDS < deadline)); do
    engine_ok && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      # setsid may have forked: follow the daemon's own pid file if it is alive.
      pid="$(dockerd_pid || true)"
      [[ -n "$pid" ]] || { sleep 0.5; engine_ok && return 0; return 1; }
    fi
    sleep 0.5
  done
  return 1
}

# A dockerd may already be starting (pid file present and alive): just wait.
if pid="$(dockerd_pid)"; then
  log "dockerd already running (pid $pid); waiting for it to answer"
  wait_engine "$pid" && { log "engine answers"; exit 0; }
  die "dockerd (pid $pid) runs but does not answer 'docker info'; see its log (e.g. $LOG_FILE)"
fi

read -r -a extra <<<"${BERTH_DOCKERD_ARGS:-}"
# Docker's default pools give only ~30 user networks; the suite (every test
# applies its own prefixed copy of the example repo) and the bench need more.
flags=(--default-address-pool base=10.213.0.0/16,size=24)
for attempt in 1 2 3 4; do
  args="${flags[*]:-} ${extra[*]:-}"; args="${args# }"; args="${args% }"
  log "starting dockerd${args:+ $args} (attempt $attempt, log $LOG_FILE)"
  offset=$(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0)
  # setsid + nohup: own session, immune to the hangup/kill of this script's group.
  nohup setsid dockerd "${flags[@]}" "${extra[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  disown "$pid" 2>/dev/null || true
  if wait_engine "$pid"; then
    log "engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'), storage $(docker info --format '{{.Driver}}' 2>/dev/null || echo '?'))${flags[*]:+; fallback flags: ${flags[*]}}"
    exit 0
  fi
  if pid2="$(dockerd_pid)"; then
    die "dockerd (pid $pid2) did not answer within ${WAIT_SECS}s; see $LOG_FILE"
  fi
  # dockerd died: pick a fallback from what it logged this time.
  newlog="$(tail -c +"$((offset + 1))" "$LOG_FILE" 2>/dev/null || true)"
  grep -E 'level=(error|fatal)|failed to start daemon' <<<"$newlog" | tail -n 3 | sed 's/^/[ensure-docker]   /' >&2 || true
  changed=0
  if [[ " ${flags[*]:-} " != *" --storage-driver=vfs "* ]] &&
    grep -qiE 'graphdriver|overlay|storage.driver|driver not supported|backing file system' <<<"$newlog"; then
    flags+=(--storage-driver=vfs); changed=1
    log "overlay2 unusable here; falling back to --storage-driver=vfs (slower, but works anywhere)"
  fi
  if [[ " ${flags[*]:-} " != *" --iptables=false "* ]] &&
    grep -qiE 'iptables|nf_tables|xtables|NAT chain' <<<"$newlog"; then
    flags+=(--iptables=false --ip-masq=false); changed=1
    log "iptables unusable here; falling back to --iptables=false (no NAT: containers get no outbound traffic)"
  fi
  if [[ " ${flags[*]:-} " != *"native.cgroupdriver"* ]] &&
    grep -qiE 'cgroup' <<<"$newlog"; then
    flags+=(--exec-opt native.cgroupdriver=cgroupfs); changed=1
    log "cgroup trouble; retrying with --exec-opt native.cgroupdriver=cgroupfs"
  fi
  ((changed)) || die "dockerd exited and no known fallback applies; see $LOG_FILE"
  rm -f /var/run/docker.pid
done
die "dockerd would not start after fallbacks (${flags[*]}); see $LOG_FILE"
