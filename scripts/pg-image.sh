#!/usr/bin/env bash
# Build berth-test/pg:15 and berth-test/pg:15-broken: a REAL PostgreSQL 15 for
# the database-rollout tests, made without a registry. The binaries, the
# libraries they load (ldd), the extension/plugin directory and the share
# directory of Debian's postgresql-15 package go into a rootfs with a static
# busybox for the shell, and the rootfs is `docker import`ed (as
# scripts/node-base-image.sh makes the Node base image).
#
#   bash scripts/pg-image.sh           build when missing or outdated (fast no-op otherwise)
#   bash scripts/pg-image.sh --force   rebuild
#   bash scripts/pg-image.sh --verify  also start it, write rows over TCP with a password, check them
#
# The entrypoint does the official image's basics: POSTGRES_USER (default
# postgres) / POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust)
# / POSTGRES_DB (default $POSTGRES_USER); initdb on an empty $PGDATA with
# scram-sha-256 for network clients (trust on the local socket, as upstream);
# /docker-entrypoint-initdb.d/*.sql|*.sh on first start; the server runs as the
# non-root user postgres (uid 999); a leading "-c ..." argument means
# "postgres -c ...". HEALTHCHECK: pg_isready over TCP (so the unix-socket-only
# init server never counts as healthy).
# :15-broken is the same server on the same data, whose health check never
# passes: a new version that starts and never gets healthy.
#
# The images carry the hash of this script and of the host's postgresql-15
# package version; a change of either rebuilds them.
set -euo pipefail

log() { echo "[pg-image] $*"; }
die() { echo "[pg-image] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib/rootfs.sh
. "$(dirname "$0")/lib/rootfs.sh"

TAG="${BERTH_PG_IMAGE:-berth-test/pg:15}"
BROKEN_TAG="${TAG}-broken"
image_args 2,25 "$@"

docker info >/dev/null 2>&1 || die "no Docker engine answers; run: bash scripts/ensure-docker.sh"

PGBIN=/usr/lib/postgresql/15/bin
rootfs_apt_install postgresql-15 "$PGBIN/postgres"
SETPRIV="$(command -v setpriv || true)"
[[ -n "$SETPRIV" ]] || die "need setpriv (util-linux) to drop root in the entrypoint"

BUSYBOX="$(rootfs_static_busybox)"
[[ -n "$BUSYBOX" ]] || die "need a static busybox (Debian: apt-get install busybox-static)"

PKG_VERSION="$(dpkg-query -W -f '${Version}' postgresql-15 2>/dev/null || "$PGBIN/postgres" --version)"
KEY="$({ sha256sum "$0" | cut -d' ' -f1; rootfs_hash; echo "$PKG_VERSION"; } | sha256sum | cut -c1-12)"
label_of() { docker image inspect --format '{{index .Config.Labels "berth.pg-image"}}' "$1" 2>/dev/null || true; }

build() {
  local t0=$SECONDS work root
  work="$(mktemp -d "${TMPDIR:-/tmp}/berth-pg-image.XXXXXX")"
  trap "rm -rf '$work'" EXIT
  root="$work/rootfs"
  rootfs_init "$root"
  local elfs=()
  mkdir -p "$root/usr/lib/postgresql/15"
  cp -a "$PGBIN" "$root/usr/lib/postgresql/15/bin"
  # plugins (plpgsql, dictionaries, contrib), without the LLVM JIT: it alone
  # pulls in ~100 MB of libLLVM and postgres runs without it (jit = off in effect)
  mkdir -p "$root/usr/lib/postgresql/15/lib"
  find /usr/lib/postgresql/15/lib -maxdepth 1 -name '*.so' ! -name 'llvmjit*' -exec cp -L {} "$root/usr/lib/postgresql/15/lib/" \;
  mkdir -p "$root/usr/share/postgresql"
  cp -a /usr/share/postgresql/15 "$root/usr/share/postgresql/15"
  rm -rf "$root/usr/share/postgresql/15/man"
  cp -a /usr/share/zoneinfo "$root/usr/share/zoneinfo" # built --with-system-tzdata
  while IFS= read -r f; do elfs+=("$f"); done < <(find "$root/usr/lib/postgresql/15" -type f \( -perm -u+x -o -name '*.so' \))
  rootfs_put "$root" "$SETPRIV" /usr/local/bin/setpriv
  elfs+=("$root/usr/local/bin/setpriv")

  rootfs_libs "$root" "${elfs[@]}"
  rootfs_busybox "$root" "$BUSYBOX"
  rootfs_accounts "$root" 'postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/sh'
  mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/docker-entrypoint-initdb.d"
  chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
  chmod 2777 "$root/var/run/postgresql"

  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# berth-test/pg entrypoint: the official postgres image's basics (see scripts/pg-image.sh).
set -eu
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec /usr/local/bin/setpriv --reuid=999 --regid=999 --clear-groups "$0" "$@"
fi

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo "Error: Database is uninitialized and superuser password is not specified." >&2
    echo "       Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
    exit 1
  fi
  pw="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pw"
  initdb --username="$POSTGRES_USER" --pwfile="$pw" -E UTF8 --locale=C --no-sync \
    --auth-local=trust --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" -D "$PGDATA" >/dev/null
  rm -f "$pw"
  printf '\nhost all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
  q() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc -q "$@"; }
  if [ "$POSTGRES_DB" != postgres ]; then
    echo 'CREATE DATABASE :"db";' | q --dbname postgres --set db="$POSTGRES_DB"
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "running $f"; q --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sh) echo "running $f"; . "$f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
else
  echo "PostgreSQL Database directory appears to contain a database; Skipping initialization"
fi
exec "$@"
EOF
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  # initdb asks `locale -a`; only C/POSIX exist here (initdb runs with --locale=C)
  printf '#!/bin/sh\nprintf "C\\nPOSIX\\n"\n' >"$root/usr/local/bin/locale"
  chmod 755 "$root/usr/local/bin/locale"

  local changes=(
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'ENV PGDATA=/var/lib/postgresql/data'
    --change 'ENV LANG=C'
    --change "LABEL berth.pg-image=$KEY"
    --change 'VOLUME /var/lib/postgresql/data'
    --change 'EXPOSE 5432'
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]'
    --change 'CMD ["postgres"]'
  )
  import() { rootfs_import "$root" "$1" "PostgreSQL 15 from Debian's postgresql-15 (scripts/pg-image.sh)" "${changes[@]}" --change "$2"; }
  # Checks every 500 ms: a server that is ready (about a second after start) counts as
  # healthy half a second sooner on average, and the broken one is unhealthy after ~1 s
  # instead of ~4 s; each database rollout of a test waits on exactly these (still ~30 s
  # of failed checks before a real server counts as unhealthy).
  import "$TAG" 'HEALTHCHECK --interval=500ms --timeout=3s --retries=60 --start-period=2s CMD pg_isready -q -h 127.0.0.1 -p 5432 || exit 1'
  import "$BROKEN_TAG" 'HEALTHCHECK --interval=500ms --timeout=3s --retries=2 CMD echo "broken on purpose"; exit 1'
  log "built $TAG and $BROKEN_TAG ($KEY, postgresql-15 $PKG_VERSION, $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')) in $((SECONDS - t0))s"
  # verify sets its own EXIT trap: the work dir goes now
  rm -rf "$work"
  trap - EXIT
}

verify() {
  local n="berth-pgiv-$$" st i
  # EXIT, not RETURN: a failed check leaves through die
  trap 'docker rm -f -v "'"$n"'" >/dev/null 2>&1 || true' EXIT
  docker run -d --name "$n" -e POSTGRES_USER=app -e POSTGRES_PASSWORD=s3cret -e POSTGRES_DB=appdb "$TAG" >/dev/null
  for ((i = 0; i < 120; i++)); do
    st="$(docker inspect -f '{{.State.Health.Status}}' "$n")"
    [[ "$st" == healthy ]] && break
    [[ "$(docker inspect -f '{{.State.Status}}' "$n")" == running ]] || break
    sleep 0.5
  done
  [[ "$st" == healthy ]] || { docker logs "$n" 2>&1 | tail -20; die "verify: $TAG not healthy ($st)"; }
  [[ "$(docker exec "$n" id -un)" == root ]] # exec defaults to root; the server must not
  [[ "$(docker exec "$n" sh -c 'stat -c %U /proc/1')" == postgres ]] || die "verify: server is not running as postgres"
  # over TCP: a wrong password is refused, the right one works
  if docker exec -e PGPASSWORD=wrong "$n" psql -h 127.0.0.1 -U app -d appdb -tAc 'select 1' >/dev/null 2>&1; then
    die "verify: a wrong password was accepted over TCP"
  fi
  out="$(docker exec -e PGPASSWORD=s3cret "$n" psql -q -h 127.0.0.1 -U app -d appdb -tAc \
    "create table t(x int); insert into t select generate_series(1,100); select count(*), sum(x) from t")"
  [[ "$out" == "100|5050" ]] || die "verify: rows over TCP: $out"
  log "verify: $TAG healthy, runs as postgres, scram auth over TCP, rows written and read ($out)"
}

if ((FORCE)) || [[ "$(label_of "$TAG")" != "$KEY" || "$(label_of "$BROKEN_TAG")" != "$KEY" ]]; then
  build
else
  log "$TAG and $BROKEN_TAG are up to date ($KEY); nothing to build (--force rebuilds)"
fi
if ((VERIFY)); then verify; fi
