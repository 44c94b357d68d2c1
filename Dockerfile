# berth as a container image.
#
#   docker build -t berth .                                   (base: node:20-bookworm-slim)
#   docker build --build-arg NODE_IMAGE=berth-test/node:20 -t berth:local .
#
# Written for the classic builder as well as BuildKit (Docker 20.10 without
# buildx): no RUN --mount, no heredocs. Where no registry is reachable, any
# Debian-like image with node 20 and npm works as NODE_IMAGE; CI uses the one
# scripts/node-base-image.sh makes from the host (scripts/berth-image.sh).
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: every dependency, installed once for both stages below ---------
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
# Install scripts are skipped: the only ones are optional native speed-ups of
# ssh2 (cpu-features, its crypto binding) that would need a compiler; ssh2
# falls back to pure JS, and esbuild comes as its prebuilt platform package.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- prod-deps: what runs — no dev and no optional dependencies ------------
# (dropping optional ones also drops typescript, which the dev install leaves
# behind as an optional peer of cosmiconfig). Its own stage, so that a source
# change reuses it from the layer cache.
FROM deps AS prod-deps
RUN npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# ---- build: compile, precompile the schema validators, bundle the CLI -------
FROM deps AS build
COPY tsconfig.json ./
COPY scripts/build-validators.mjs scripts/bundle.mjs scripts/
COPY src src
COPY controllers controllers
# The example repository: build-validators runs the validators on it to warm their V8 code cache.
COPY desired-state desired-state
RUN npm run build

# ---- runtime ----------------------------------------------------------------
FROM ${NODE_IMAGE}
# tini as PID 1 (forwards SIGTERM to berth, reaps the git processes it runs),
# git (simple-git shells out to it for --repo URLs), the ssh client (git@
# URLs) and CA certificates. node:20-bookworm-slim has none of them, so they
# come from apt; a base that already has them (CI's) needs no network here.
# berth runs as an unprivileged user; its entries are written directly because
# slim Debian and busybox-based images have different user tools.
RUN set -eu; \
    missing=""; \
    command -v tini >/dev/null 2>&1 || missing="$missing tini"; \
    command -v git >/dev/null 2>&1 || missing="$missing git"; \
    command -v ssh >/dev/null 2>&1 || missing="$missing openssh-client"; \
    [ -f /etc/ssl/certs/ca-certificates.crt ] || missing="$missing ca-certificates"; \
    if [ -n "$missing" ]; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; \
      apt-get clean; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    echo 'berth:x:10001:10001:berth:/home/berth:/usr/sbin/nologin' >>/etc/passwd; \
    echo 'berth:x:10001:' >>/etc/group; \
    if [ -f /etc/shadow ]; then echo 'berth:!:1::::::' >>/etc/shadow; fi; \
    mkdir -p /home/berth /var/lib/berth /repo; \
    chown 10001:10001 /home/berth /var/lib/berth; \
    git config --system --add safe.directory '*'
# safe.directory: a repo mounted from the host belongs to another uid, and git
# refuses to read such a repo (berth would see no revision). Here the only
# user is berth and the mount is its input, so every directory is trusted.

WORKDIR /opt/berth
COPY package.json ./
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist/generated ./dist/generated
COPY --from=build /src/dist/bundle ./dist/bundle
COPY scripts/container-healthcheck.mjs ./healthcheck.mjs
RUN ln -s /opt/berth/dist/bundle/main.js /usr/local/bin/berth

ENV NODE_ENV=production \
    BERTH_STATE_DIR=/var/lib/berth
USER berth
VOLUME /var/lib/berth
# --repo defaults to the working directory: mount the desired state here.
WORKDIR /repo
EXPOSE 9090
# `berth run` answers /healthz as long as it serves; the check follows --listen.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/opt/berth/healthcheck.mjs"]
ENTRYPOINT ["tini", "--", "node", "/opt/berth/dist/bundle/main.js"]
CMD ["--help"]
