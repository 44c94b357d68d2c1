#!/usr/bin/env bash
# Build berth-test/redis-server:7: a REAL Redis 7 for the tests (the soak's
# second database), made without a registry from Debian's redis-server and
# redis-tools packages, the way scripts/pg-image.sh makes PostgreSQL: the
# binaries and the libraries they load go into a rootfs with a static busybox
# (scripts/lib/rootfs.sh), and the rootfs is `docker import`ed.
# (berth-test/redis:7 stays the busybox stand-in of scripts/test-images.sh.)
#
#   bash scripts/redis-image.sh           build when missing or outdated (fast no-op otherwise)
#   bash scripts/redis-image.sh --force   rebuild
#   bash scripts/redis-image.sh --verify  also start it, write keys with AOF on, restart, read them
#
# Like the official image: `redis-server` (the default command) runs as the
# non-root user redis (uid 999) in /data (VOLUME), which it owns; a leading
# "--option" or "*.conf" argument means "redis-server <args>"; anything else is
# exec'd. Protected mode is off (as the official image builds it), so clients
# on the container's network connect without a bind/password setup.
# HEALTHCHECK: redis-cli ping answers PONG.
#
# The image carries the hash of this script, of scripts/lib/rootfs.sh and the
# host's redis-server package version; a change of any of them rebuilds it.
set -euo pipefail

log() { echo "[redis-image] $*"; }
die() { echo "[redis-image] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib/rootfs.sh
. "$(dirname "$0")/lib/rootfs.sh"

TAG="${BERTH_REDIS_IMAGE:-berth-test/redis-server:7}"
image_args 2,21 "$@"

docker info >/dev/null 2>&1 || die "no Docker engine answers; run: bash scripts/ensure-docker.sh"

rootfs_apt_install redis-server /usr/bin/redis-server
[[ -x /usr/bin/redis-cli ]] || die "need redis-cli (Debian: apt-get install redis-tools)"
SETPRIV="$(command -v setpriv || true)"
[[ -n "$SETPRIV" ]] || die "need setpriv (util-linux) to drop root in the entrypoint"
BUSYBOX="$(rootfs_static_busybox)"
[[ -n "$BUSYBOX" ]] || die "need a static busybox (Debian: apt-get install busybox-static)"

PKG_VERSION="$(dpkg-query -W -f '${Version}' redis-server 2>/dev/null || redis-server --version)"
KEY="$({ sha256sum "$0" | cut -d' ' -f1; rootfs_hash; echo "$PKG_VERSION"; } | sha256sum | cut -c1-12)"
label_of() { docker image inspect --format '{{index .Config.Labels "berth.redis-image"}}' "$1" 2>/dev/null || true; }

build() {
  local t0=$SECONDS work root f
  work="$(mktemp -d "${TMPDIR:-/tmp}/berth-redis-image.XXXXXX")"
  trap "rm -rf '$work'" EXIT
  root="$work/rootfs"
  rootfs_init "$root"
  local elfs=()
  # redis-server, -check-rdb and -sentinel are one binary that looks at its
  # argv[0]: the links are kept as links
  for f in /usr/bin/redis-server /usr/bin/redis-check-rdb /usr/bin/redis-check-aof /usr/bin/redis-cli; do
    [[ -e "$f" ]] || continue
    cp -a "$f" "$root/usr/bin/"
    [[ -L "$f" ]] || elfs+=("$f")
  done
  rootfs_put "$root" "$SETPRIV" /usr/local/bin/setpriv
  elfs+=("$SETPRIV")
  rootfs_libs "$root" "${elfs[@]}"
  rootfs_busybox "$root" "$BUSYBOX"
  rootfs_accounts "$root" 'redis:x:999:999:Redis:/data:/bin/sh'
  mkdir -p "$root/data"
  chown 999:999 "$root/data"

  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# berth-test/redis-server entrypoint: the official redis image's basics (see scripts/redis-image.sh).
set -eu
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" != redis-server ]; then exec "$@"; fi
if [ "$(id -u)" = 0 ]; then
  find /data \! -user redis -exec chown redis:redis '{}' +
  exec /usr/local/bin/setpriv --reuid=999 --regid=999 --clear-groups "$0" "$@"
fi
shift
conf=""
case "${1:-}" in *.conf) conf="$1"; shift ;; esac
# protected mode off, as the official image builds it; the caller's options come after
exec redis-server ${conf:+"$conf"} --protected-mode no "$@"
EOF
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"

  rootfs_import "$root" "$TAG" "Redis from Debian's redis-server (scripts/redis-image.sh)" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL berth.redis-image=$KEY" \
    --change 'VOLUME /data' \
    --change 'WORKDIR /data' \
    --change 'EXPOSE 6379' \
    --change 'HEALTHCHECK --interval=1s --timeout=3s --retries=30 --start-period=1s CMD redis-cli -h 127.0.0.1 ping | grep -q PONG' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["redis-server"]'
  log "built $TAG ($KEY, redis-server $PKG_VERSION, $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')) in $((SECONDS - t0))s"
  # verify sets its own EXIT trap: the work dir goes now
  rm -rf "$work"
  trap - EXIT
}

verify() {
  local n="berth-rediv-$$" vol="berth-rediv-$$" st="" i out
  # EXIT, not RETURN: a failed check leaves through die
  trap 'docker rm -f -v "'"$n"'" >/dev/null 2>&1 || true; docker volume rm -f "'"$vol"'" >/dev/null 2>&1 || true' EXIT
  wait_healthy() {
    for ((i = 0; i < 60; i++)); do
      st="$(docker inspect -f '{{.State.Health.Status}}' "$n")"
      [[ "$st" == healthy ]] && return 0
      [[ "$(docker inspect -f '{{.State.Status}}' "$n")" == running ]] || break
      sleep 0.5
    done
    docker logs "$n" 2>&1 | tail -20
    die "verify: $TAG not healthy ($st)"
  }
  docker run -d --name "$n" -v "$vol:/data" "$TAG" --appendonly yes >/dev/null
  wait_healthy
  [[ "$(docker exec "$n" sh -c 'stat -c %U /proc/1')" == redis ]] || die "verify: server is not running as redis"
  docker exec "$n" sh -c 'for i in $(seq 1 100); do echo "SET k$i v$i"; done | redis-cli >/dev/null'
  docker rm -f "$n" >/dev/null # SIGKILL: what survives is what the append-only file had
  docker run -d --name "$n" -v "$vol:/data" "$TAG" --appendonly yes >/dev/null
  wait_healthy
  out="$(docker exec "$n" redis-cli dbsize)|$(docker exec "$n" redis-cli get k100)"
  [[ "$out" == "100|v100" ]] || die "verify: keys after a kill and restart: $out"
  log "verify: $TAG healthy, runs as redis, 100 keys survived SIGKILL + restart on the volume ($out)"
}

if ((FORCE)) || [[ "$(label_of "$TAG")" != "$KEY" ]]; then
  build
else
  log "$TAG is up to date ($KEY); nothing to build (--force rebuilds)"
fi
if ((VERIFY)); then verify; fi
