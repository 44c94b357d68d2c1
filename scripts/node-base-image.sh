#!/usr/bin/env bash
# Build berth-test/node:20, a local stand-in for node:20-bookworm-slim, from
# what this machine already has. No registry is reachable where berth is built
# and tested, so the Dockerfile's default base cannot be pulled; CI builds the
# berth image against this one instead (scripts/berth-image.sh passes
# --build-arg NODE_IMAGE=berth-test/node:20).
#
#   bash scripts/node-base-image.sh           build when missing or outdated (fast no-op otherwise)
#   bash scripts/node-base-image.sh --force   rebuild
#
# The rootfs is the host's own files, copied rather than downloaded: node and
# npm, git (+ git-core helpers and templates), the ssh client, tini, the CA
# bundle, every shared library `ldd` lists for those binaries, and a static
# busybox for /bin/sh and the usual shell tools (Dockerfile RUN steps, npm
# scripts and git's shell-outs need a shell). Layout is Debian's merged /usr,
# so paths match node:20-bookworm-slim (/usr/bin/node, /usr/bin/tini, ...).
# A debootstrap'd Debian would be closer to the real base but costs minutes of
# downloads on every fresh CI machine; this takes seconds and needs no network.
#
# The image carries a label with the hash of this script, the host's node and
# git versions and its CA bundle, so it is rebuilt when any of them changes.
set -euo pipefail

log() { echo "[node-base-image] $*"; }
die() { echo "[node-base-image] ERROR: $*" >&2; exit 1; }
# shellcheck source=lib/rootfs.sh
. "$(dirname "$0")/lib/rootfs.sh"

TAG="${BERTH_NODE_BASE_IMAGE:-berth-test/node:20}"
FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) die "unknown argument: $arg (use --force)" ;;
  esac
done

docker info >/dev/null 2>&1 || die "no Docker engine answers; run: bash scripts/ensure-docker.sh"

NODE_BIN="$(readlink -f "$(command -v node)")" || die "node is not on PATH"
NPM_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" # .../node_modules/npm
GIT_BIN="$(readlink -f "$(command -v git)")" || die "git is not on PATH (apt-get install git)"
GIT_CORE="$(git --exec-path)"
[[ "$(node -p 'process.versions.node.split(".")[0]')" == 20 ]] || die "host node is $(node --version); this base stands in for node:20"
[[ -f "$NPM_DIR/bin/npm-cli.js" ]] || die "npm not found next to node (looked in $NPM_DIR)"

# tini is PID 1 in the berth image. Debian packages it; install it on the host
# when missing (CI runs as root on Debian), as test-images.sh's setup does for busybox.
command -v tini >/dev/null 2>&1 || rootfs_apt_install tini /usr/bin/tini
TINI_BIN="$(readlink -f "$(command -v tini)")"
SSH_BIN="$(command -v ssh 2>/dev/null || true)" # optional: git@ URLs

BUSYBOX="$(rootfs_static_busybox)"
[[ -n "$BUSYBOX" ]] || die "need a static busybox (Debian: apt-get install busybox-static; scripts/ensure-docker.sh installs it)"

KEY="$(
  {
    sha256sum "$0" | cut -d' ' -f1
    rootfs_hash
    node --version
    git --version
    sha256sum /etc/ssl/certs/ca-certificates.crt 2>/dev/null || true
  } | sha256sum | cut -c1-12
)"
current="$(docker image inspect --format '{{index .Config.Labels "berth.node-base"}}' "$TAG" 2>/dev/null || true)"
if ((!FORCE)) && [[ "$current" == "$KEY" ]]; then
  log "$TAG is up to date ($KEY); nothing to build (--force rebuilds)"
  exit 0
fi

t0=$SECONDS
work="$(mktemp -d "${TMPDIR:-/tmp}/berth-node-base.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

rootfs_init "$root"
put() { rootfs_put "$root" "$@"; }
in_root() { rootfs_path "$root" "$1"; }

ELFS=()
put "$NODE_BIN" /usr/bin/node
ELFS+=("$NODE_BIN")
mkdir -p "$root/usr/lib/node_modules"
cp -a "$NPM_DIR" "$root/usr/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"

put "$GIT_BIN" /usr/bin/git
ELFS+=("$GIT_BIN")
mkdir -p "$(in_root "$GIT_CORE")"
cp -a "$GIT_CORE/." "$(in_root "$GIT_CORE")/"
while IFS= read -r f; do
  [[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" == '177ELF' ]] && ELFS+=("$f")
done < <(find "$GIT_CORE" -type f)
[[ -d /usr/share/git-core ]] && cp -a /usr/share/git-core "$root/usr/share/"

put "$TINI_BIN" /usr/bin/tini
ELFS+=("$TINI_BIN")
if [[ -n "$SSH_BIN" ]]; then
  put "$SSH_BIN" /usr/bin/ssh
  ELFS+=("$(readlink -f "$SSH_BIN")")
  [[ -f /etc/ssh/ssh_config ]] && put /etc/ssh/ssh_config
fi

rootfs_libs "$root" "${ELFS[@]}"

# Trust store: the host's CA bundle (Debian's ca-certificates plus whatever
# this machine trusts, e.g. an egress proxy's CA), where Debian keeps it.
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || die "no /etc/ssl/certs/ca-certificates.crt (apt-get install ca-certificates)"
put /etc/ssl/certs/ca-certificates.crt

rootfs_busybox "$root" "$BUSYBOX"
rootfs_accounts "$root"

# Node ships its own CA list and ignores the system store; where this host
# tells node to trust the system bundle too (NODE_EXTRA_CA_CERTS, e.g. behind a
# TLS-inspecting proxy), the base image does the same, as the host's node would.
changes=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "ENV NODE_VERSION=$(node -p process.versions.node)"
  --change "LABEL berth.node-base=$KEY"
  --change 'CMD ["node"]'
)
if [[ -n "${NODE_EXTRA_CA_CERTS:-}" ]]; then
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
fi

rootfs_import "$root" "$TAG" "local stand-in for node:20-bookworm-slim (scripts/node-base-image.sh)" "${changes[@]}"

# Smoke test: the things the berth image relies on run inside it.
docker run --rm --network none "$TAG" sh -c 'node --version && npm --version && git --version && tini --version && (ssh -V 2>&1 || true)' |
  tr '\n' ' ' | sed 's/^/[node-base-image] in the image: /; s/ $/\n/'
log "built $TAG ($KEY, $(docker image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')) in $((SECONDS - t0))s"
