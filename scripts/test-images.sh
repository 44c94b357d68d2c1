#!/usr/bin/env bash
# Build the berth-test/* stand-in images that tests and desired-state/ use.
# No registry is needed: each image is a busybox rootfs made here and loaded
# with `docker import` (HEALTHCHECK/ENV/EXPOSE/... via --change).
#
#   bash scripts/test-images.sh            build the missing images (fast no-op when all exist)
#   bash scripts/test-images.sh --force    rebuild all of them
#   bash scripts/test-images.sh --verify   also run each image and check health / stop / data
#
# Images (all PID-1 friendly: SIGTERM/SIGINT stops them at once):
#   berth-test/busybox:1       plain busybox, CMD ["sh"]
#   berth-test/web:v1|v2|bad   busybox httpd on $PORT (default 80): / -> "web <v> on <host>",
#                              /version -> "<v>", /health -> "ok" (404 for :bad, so it never
#                              becomes healthy), /env -> the container's env at start.
#                              HEALTHCHECK every 1s (timeout 2s, retries 3, start period 1s).
#   berth-test/postgres:18     fake database on 5432; $PGDATA (/var/lib/postgresql/data)
#                              gets berth-marker ("created <ts> on <host>", first start only)
#                              and starts.log (one line per start). Healthy once marker and
#                              /tmp/ready exist (interval 1s, retries 30). FAKE_DB_FAIL=1: exit 1
#                              at once; FAKE_DB_NEVER_HEALTHY=1: never ready. pg_isready included.
#   berth-test/postgres:broken same, but its health check always fails (retries 3)
#   berth-test/redis:7         fake redis on 6379 (answers PING with +PONG), /data volume,
#                              healthy once /tmp/ready exists; redis-cli ping included.
#   berth-test/worker:1        sleep loop, no HEALTHCHECK (for minReadySeconds)
#   berth-test/pg:15, :15-broken  a real PostgreSQL 15, built by scripts/pg-image.sh
#   berth-test/redis-server:7     a real Redis 7, built by scripts/redis-image.sh
set -euo pipefail

log() { echo "[test-images] $*"; }
die() { echo "[test-images] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib/rootfs.sh
. "$(dirname "$0")/lib/rootfs.sh"

image_args 2,28 "$@"

IMAGES=(
  berth-test/busybox:1
  berth-test/web:v1
  berth-test/web:v2
  berth-test/web:bad
  berth-test/postgres:18
  berth-test/postgres:broken
  berth-test/redis:7
  berth-test/worker:1
)

docker info >/dev/null 2>&1 || die "no Docker engine answers; run: bash scripts/ensure-docker.sh"

# Images carry the hash of this script, so a changed script rebuilds them on
# machines that kept images from an older version.
SCRIPT_HASH="$(sha256sum "$0" | cut -c1-12)"
have() { [[ "$(docker image inspect --format '{{index .Config.Labels "berth.test-images"}}' "$1" 2>/dev/null)" == "$SCRIPT_HASH" ]]; }

missing=()
for img in "${IMAGES[@]}"; do
  if ((FORCE)) || ! have "$img"; then missing+=("$img"); fi
done

build_all() {
  local bb
  bb="$(rootfs_static_busybox)"
  [[ -n "$bb" ]] || die "need a static busybox (Debian: apt-get install busybox-static; or run scripts/ensure-docker.sh as root)"

  local work
  work="$(mktemp -d "${TMPDIR:-/tmp}/berth-test-images.XXXXXX")"
  WORKDIR_TO_REMOVE="$work"

  # --- common rootfs: busybox + applet symlinks, passwd/group, /tmp ---------
  local base="$work/base"
  mkdir -p "$base"/{bin,etc,tmp,root,proc,sys,dev,var,usr/local/bin}
  chmod 1777 "$base/tmp"
  cp "$bb" "$base/bin/busybox"
  local applet
  for applet in $("$bb" --list); do
    [[ "$applet" == busybox ]] || ln -s busybox "$base/bin/$applet"
  done
  ln -s bin "$base/sbin"
  ln -s ../bin "$base/usr/bin"
  ln -s ../bin "$base/usr/sbin"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$base/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$base/etc/group"

  local PATHENV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

  # import_image <tag> <rootfs dir> --change ... : load a rootfs as an image
  import_image() {
    local tag="$1" dir="$2" old
    shift 2
    old="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
    tar --numeric-owner --owner=0 --group=0 -C "$dir" -cf - . |
      docker import --message "berth stand-in image $tag (scripts/test-images.sh)" \
        --change "ENV $PATHENV" --change "LABEL berth.test-images=$SCRIPT_HASH" "$@" - "$tag" >/dev/null
    # --force: drop the image this one replaced (fails harmlessly if a container uses it)
    [[ -z "$old" ]] || docker image rm "$old" >/dev/null 2>&1 || true
    log "built $tag"
  }
  script() { # script <rootfs> <name>  (body on stdin) -> /usr/local/bin/<name>
    cat >"$1/usr/local/bin/$2"
    chmod 755 "$1/usr/local/bin/$2"
  }
  want() { [[ " ${missing[*]} " == *" $1 "* ]]; }

  # --- busybox ---------------------------------------------------------------
  if want berth-test/busybox:1; then
    import_image berth-test/busybox:1 "$base" --change 'CMD ["sh"]'
  fi

  # --- web -------------------------------------------------------------------
  local v
  for v in v1 v2 bad; do
    want "berth-test/web:$v" || continue
    local r="$work/web-$v"
    cp -a "$base" "$r"
    echo "$v" >"$r/etc/berth-web-version"
    [[ "$v" == bad ]] || touch "$r/etc/berth-web-healthy"
    script "$r" web-server <<'EOF'
#!/bin/sh
# berth-test web stand-in: busybox httpd on $PORT. PID-1 friendly: httpd
# alone ignores SIGTERM as PID 1, so this shell traps it and stops httpd.
if [ "$#" -gt 0 ] && [ "$1" != web-server ]; then exec "$@"; fi
PORT="${PORT:-80}"
V="$(cat /etc/berth-web-version)"
# Pages live under /tmp so the image also runs with `read_only: true` + a /tmp tmpfs,
# the hardening the seed setups use.
W=/tmp/www
mkdir -p $W
printf 'web %s on %s\n' "$V" "$(hostname)" >$W/index.html
printf '%s\n' "$V" >$W/version
if [ -f /etc/berth-web-healthy ]; then printf 'ok\n' >$W/health; else rm -f $W/health; fi
env | sort >$W/env
httpd -f -p "$PORT" -h $W &
pid=$!
trap 'echo "web $V: stopping"; kill -TERM $pid 2>/dev/null; exit 0' TERM INT QUIT
echo "web $V listening on :$PORT"
wait $pid
EOF
    import_image "berth-test/web:$v" "$r" \
      --change 'ENV PORT=80' \
      --change 'EXPOSE 80' \
      --change 'HEALTHCHECK --interval=1s --timeout=2s --retries=3 --start-period=1s CMD wget -q -O- http://127.0.0.1:${PORT:-80}/health || exit 1' \
      --change 'CMD ["web-server"]'
  done

  # --- postgres --------------------------------------------------------------
  if want berth-test/postgres:18 || want berth-test/postgres:broken; then
    local r="$work/postgres"
    cp -a "$base" "$r"
    mkdir -p "$r/var/lib/postgresql/data" "$r/var/run/postgresql"
    script "$r" fake-postgres <<'EOF'
#!/bin/sh
# berth-test fake PostgreSQL. Any other command (sh, cat ...) is exec'd, like
# the real image's entrypoint; "postgres -c ..." arguments are ignored.
if [ "$#" -gt 0 ] && [ "$1" != postgres ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
if [ "${FAKE_DB_FAIL:-}" = 1 ]; then
  echo "fake-postgres: FAKE_DB_FAIL=1, exiting with 1" >&2
  exit 1
fi
D="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$D"
rm -f /tmp/ready
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
if [ -f "$D/berth-marker" ]; then
  echo "fake-postgres: existing database in $D: $(head -n 1 "$D/berth-marker")"
else
  echo "created $(now) on $(hostname)" >"$D/berth-marker"
  echo "fake-postgres: initialised database in $D"
fi
echo "start $(now) on $(hostname)" >>"$D/starts.log"
nc -ll -p 5432 -e /bin/true &
pid=$!
trap 'echo "fake-postgres: shutting down"; kill $pid 2>/dev/null; exit 0' TERM INT QUIT
if [ "${FAKE_DB_NEVER_HEALTHY:-}" = 1 ]; then
  echo "fake-postgres: FAKE_DB_NEVER_HEALTHY=1, never becoming ready"
else
  touch /tmp/ready
  echo "fake-postgres: database system is ready to accept connections"
fi
wait $pid
EOF
    script "$r" pg_isready <<'EOF'
#!/bin/sh
# fake pg_isready: options are ignored; ready = marker + /tmp/ready
if [ -f "${PGDATA:-/var/lib/postgresql/data}/berth-marker" ] && [ -f /tmp/ready ]; then
  echo "/var/run/postgresql:5432 - accepting connections"; exit 0
fi
echo "/var/run/postgresql:5432 - no response"; exit 2
EOF
    local pgchanges=(
      --change 'ENV PGDATA=/var/lib/postgresql/data'
      --change 'EXPOSE 5432'
      --change 'VOLUME /var/lib/postgresql/data'
      --change 'ENTRYPOINT ["fake-postgres"]'
      --change 'CMD ["postgres"]'
    )
    if want berth-test/postgres:18; then
      import_image berth-test/postgres:18 "$r" "${pgchanges[@]}" \
        --change 'HEALTHCHECK --interval=1s --timeout=2s --retries=30 --start-period=1s CMD test -f "${PGDATA:-/var/lib/postgresql/data}/berth-marker" && test -f /tmp/ready'
    fi
    if want berth-test/postgres:broken; then
      import_image berth-test/postgres:broken "$r" "${pgchanges[@]}" \
        --change 'HEALTHCHECK --interval=1s --timeout=2s --retries=3 --start-period=1s CMD echo "broken on purpose"; exit 1'
    fi
  fi

  # --- redis -----------------------------------------------------------------
  if want berth-test/redis:7; then
    local r="$work/redis"
    cp -a "$base" "$r"
    mkdir -p "$r/data"
    script "$r" fake-redis-conn <<'EOF'
#!/bin/sh
# one client connection: PING -> +PONG, anything else -> +OK
while read -r line; do
  case "$line" in
    *[Pp][Ii][Nn][Gg]*) printf '+PONG\r\n' ;;
    *) printf '+OK\r\n' ;;
  esac
done
EOF
    script "$r" fake-redis <<'EOF'
#!/bin/sh
# berth-test fake redis on 6379. Other commands are exec'd like the real image.
if [ "$#" -gt 0 ] && [ "$1" != redis-server ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi
rm -f /tmp/ready
date -u +"start %Y-%m-%dT%H:%M:%SZ on $(hostname)" >>/data/starts.log 2>/dev/null || true
nc -ll -p 6379 -e /usr/local/bin/fake-redis-conn &
pid=$!
trap 'echo "fake-redis: shutting down"; kill $pid 2>/dev/null; exit 0' TERM INT QUIT
touch /tmp/ready
echo "fake-redis: Ready to accept connections tcp"
wait $pid
EOF
    script "$r" redis-cli <<'EOF'
#!/bin/sh
# fake redis-cli: "ping" answers PONG when the server is ready
if [ -f /tmp/ready ]; then echo PONG; exit 0; fi
echo "Could not connect to Redis at 127.0.0.1:6379: Connection refused" >&2; exit 1
EOF
    import_image berth-test/redis:7 "$r" \
      --change 'EXPOSE 6379' \
      --change 'VOLUME /data' \
      --change 'WORKDIR /data' \
      --change 'HEALTHCHECK --interval=1s --timeout=2s --retries=3 --start-period=1s CMD test -f /tmp/ready' \
      --change 'ENTRYPOINT ["fake-redis"]' \
      --change 'CMD ["redis-server"]'
  fi

  # --- worker ----------------------------------------------------------------
  if want berth-test/worker:1; then
    local r="$work/worker"
    cp -a "$base" "$r"
    script "$r" worker <<'EOF'
#!/bin/sh
# berth-test worker: a loop with no HEALTHCHECK; stops at once on SIGTERM
if [ "$#" -gt 0 ] && [ "$1" != worker ]; then exec "$@"; fi
trap 'echo "worker: stopping"; exit 0' TERM INT QUIT
echo "worker: started on $(hostname)"
n=0
while :; do
  sleep 5 &
  wait $!
  n=$((n + 1))
  echo "worker: tick $n"
done
EOF
    import_image berth-test/worker:1 "$r" --change 'CMD ["worker"]'
  fi
}

verify() {
  local fails=0
  VERIFY_LABEL="berth-test-images-verify=$$"
  local label="$VERIFY_LABEL"
  check() { if "$@"; then :; else fails=$((fails + 1)); fi; }

  # wait_health <container> <want> <timeout s>
  wait_health() {
    local c="$1" want="$2" t="$3" s="" i
    for ((i = 0; i < t * 4; i++)); do
      s="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c" 2>/dev/null || echo gone)"
      [[ "$s" == "$want" ]] && { log "  ok   $c: $want after ~$((i / 4))s"; return 0; }
      sleep 0.25
    done
    log "  FAIL $c: health '$s', wanted '$want' within ${t}s"
    docker logs --tail 5 "$c" 2>&1 | sed 's/^/[test-images]        /'
    return 1
  }
  fast_stop() {
    local c="$1" t0 ms
    t0=$(date +%s%N)
    docker stop "$c" >/dev/null
    ms=$((($(date +%s%N) - t0) / 1000000))
    if ((ms < 2000)); then log "  ok   $c: docker stop took ${ms}ms"; else log "  FAIL $c: docker stop took ${ms}ms"; return 1; fi
  }
  run() { docker run -d --label "$label" "$@"; }

  log "verify: running each image"
  local n="btiv$$"
  if [[ "$(docker run --rm --label "$label" berth-test/busybox:1 sh -c 'echo hi from $(cat /etc/passwd | wc -l) users')" == "hi from 2 users" ]]; then
    log "  ok   busybox:1 runs sh"
  else
    log "  FAIL busybox:1"; fails=$((fails + 1))
  fi
  for v in v1 v2; do
    run --name "$n-web$v" berth-test/web:$v >/dev/null
    check wait_health "$n-web$v" healthy 10
    body="$(docker exec "$n-web$v" wget -q -O- http://127.0.0.1/)"
    [[ "$body" == "web $v on "* ]] && log "  ok   / says: $body" || { log "  FAIL / says: $body"; fails=$((fails + 1)); }
    [[ "$(docker exec "$n-web$v" wget -q -O- http://127.0.0.1/version)" == "$v" ]] || { log "  FAIL /version"; fails=$((fails + 1)); }
    check fast_stop "$n-web$v"
  done
  run --name "$n-webport" -e PORT=8080 berth-test/web:v1 >/dev/null
  check wait_health "$n-webport" healthy 10
  run --name "$n-webbad" berth-test/web:bad >/dev/null
  check wait_health "$n-webbad" unhealthy 15
  docker exec "$n-webbad" wget -q -O- http://127.0.0.1/ >/dev/null || { log "  FAIL web:bad / does not answer"; fails=$((fails + 1)); }
  check fast_stop "$n-webbad"

  local vol="$n-pgdata"
  docker volume create --label "$label" "$vol" >/dev/null
  run --name "$n-pg" -e POSTGRES_PASSWORD=x -v "$vol:/var/lib/postgresql/data" berth-test/postgres:18 >/dev/null
  check wait_health "$n-pg" healthy 10
  local m1 m2
  m1="$(docker exec "$n-pg" cat /var/lib/postgresql/data/berth-marker)"
  check fast_stop "$n-pg"
  docker rm "$n-pg" >/dev/null
  run --name "$n-pg" -v "$vol:/var/lib/postgresql/data" berth-test/postgres:18 >/dev/null
  check wait_health "$n-pg" healthy 10
  m2="$(docker exec "$n-pg" cat /var/lib/postgresql/data/berth-marker)"
  local starts
  starts="$(docker exec "$n-pg" sh -c 'wc -l < /var/lib/postgresql/data/starts.log' | tr -d ' ')"
  if [[ -n "$m1" && "$m1" == "$m2" && "$starts" == 2 ]]; then
    log "  ok   marker survived recreation ($m2), starts.log has 2 lines"
  else
    log "  FAIL marker '$m1' -> '$m2', starts.log lines: $starts"; fails=$((fails + 1))
  fi
  check fast_stop "$n-pg"

  run --name "$n-pgfail" -e FAKE_DB_FAIL=1 berth-test/postgres:18 >/dev/null
  sleep 1
  local st
  st="$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$n-pgfail")"
  [[ "$st" == "exited 1" ]] && log "  ok   FAKE_DB_FAIL=1 -> $st" || { log "  FAIL FAKE_DB_FAIL=1 -> $st"; fails=$((fails + 1)); }
  run --name "$n-pgnever" -e FAKE_DB_NEVER_HEALTHY=1 --health-retries 3 berth-test/postgres:18 >/dev/null
  check wait_health "$n-pgnever" unhealthy 15
  run --name "$n-pgbroken" berth-test/postgres:broken >/dev/null
  check wait_health "$n-pgbroken" unhealthy 15
  check fast_stop "$n-pgbroken"

  run --name "$n-redis" berth-test/redis:7 >/dev/null
  check wait_health "$n-redis" healthy 10
  check fast_stop "$n-redis"

  run --name "$n-worker" berth-test/worker:1 >/dev/null
  sleep 1
  [[ "$(docker inspect -f '{{.State.Running}}' "$n-worker")" == true ]] && log "  ok   worker running" || { log "  FAIL worker not running"; fails=$((fails + 1)); }
  check fast_stop "$n-worker"

  ((fails == 0)) || die "verify: $fails check(s) failed"
  log "verify: all checks passed"
}

WORKDIR_TO_REMOVE=""
VERIFY_LABEL=""
on_exit() {
  [[ -z "$WORKDIR_TO_REMOVE" ]] || rm -rf "$WORKDIR_TO_REMOVE"
  if [[ -n "$VERIFY_LABEL" ]]; then
    docker ps -aq --filter "label=$VERIFY_LABEL" | xargs -r docker rm -f -v >/dev/null 2>&1 || true
    docker volume ls -q --filter "label=$VERIFY_LABEL" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  fi
}
trap on_exit EXIT

t0=$SECONDS
if ((${#missing[@]} == 0)); then
  log "all ${#IMAGES[@]} images present; nothing to build (--force rebuilds)"
else
  log "building ${#missing[@]} image(s): ${missing[*]}"
  build_all
  log "done in $((SECONDS - t0))s"
fi
if ((VERIFY)); then verify; fi

# The real PostgreSQL 15 (berth-test/pg:15, :15-broken) for database rollouts and
# the real Redis 7 (berth-test/redis-server:7) for the soak; each its own script
# and cache key (Debian's postgresql-15 / redis-server packed into a rootfs).
real_args=()
((FORCE)) && real_args+=(--force)
((VERIFY)) && real_args+=(--verify)
bash "$(dirname "$0")/pg-image.sh" "${real_args[@]}"
bash "$(dirname "$0")/redis-image.sh" "${real_args[@]}"
