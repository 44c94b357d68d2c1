#!/usr/bin/env bash
# Build berth:local, the berth image, against the local base image (no
# registry is reachable here, so node:20-bookworm-slim cannot be pulled).
#
#   bash scripts/berth-image.sh            make the base if needed, then docker build
#   bash scripts/berth-image.sh --force    rebuild the base too
#
# The Dockerfile is the production one; only NODE_IMAGE differs. Its build
# stage runs `npm ci` against the npm registry (the base trusts this host's CA
# bundle), and Docker's layer cache makes a rebuild without changes a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[berth-image] $*"; }

BASE="${BERTH_NODE_BASE_IMAGE:-berth-test/node:20}"
TAG="${BERTH_IMAGE:-berth:local}"

BERTH_NODE_BASE_IMAGE="$BASE" bash scripts/node-base-image.sh "$@"

t0=$SECONDS
old="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
docker build --build-arg "NODE_IMAGE=$BASE" --label "org.opencontainers.image.revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)" -t "$TAG" .
new="$(docker image inspect --format '{{.Id}}' "$TAG")"
# The image this build replaced: remove it when nothing uses it any more.
[[ -z "$old" || "$old" == "$new" ]] || docker image rm "$old" >/dev/null 2>&1 || true
log "built $TAG ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }')) in $((SECONDS - t0))s"
