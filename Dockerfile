# One image for every Aether function. OpenFaaS talks to the of-watchdog on :8080 (`http` mode);
# the watchdog starts `node bin/aether.js serve $FUNCTION`, which serves that one function's Hono
# app on 127.0.0.1:3000 (PORT), and proxies every path to it except its own /_/health and /_/ready.
# FUNCTION is the stack.yml function name (api, tick, score, order-company, …, train); stack.yml and
# the Function CRs set it. The same image runs `aether dispatch` and `aether migrate` (k8s/base).
#
#   docker build -t registry.example.com/aether/aether:0.1.0 .
#   docker run --rm -p 8080:8080 -e FUNCTION=api registry.example.com/aether/aether:0.1.0

FROM ghcr.io/openfaas/of-watchdog:0.11.5 AS watchdog

FROM node:20-slim AS deps
WORKDIR /home/app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
WORKDIR /home/app
COPY --from=watchdog /fwatchdog /usr/bin/fwatchdog
COPY --from=deps /home/app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json stack.yml ./
COPY bin ./bin
COPY lib ./lib
COPY schema ./schema
COPY functions ./functions

# Watchdog settings shared by all functions; per-function timeouts come from stack.yml.
# prefix_logs=false keeps the app's JSON log lines intact.
ENV NODE_ENV=production \
    mode=http \
    upstream_url=http://127.0.0.1:3000 \
    PORT=3000 \
    prefix_logs=false

# Files stay root-owned and read-only to the app; tsx's compile cache goes to /tmp, which OpenFaaS
# mounts writable when the root filesystem is read-only.
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD [ -e /tmp/.lock ] || exit 1

# A missing FUNCTION stops the container with a message instead of serving nothing.
CMD ["sh", "-c", ": \"${FUNCTION:?set FUNCTION to the stack.yml function to serve, e.g. FUNCTION=tick}\"; export fprocess=\"node bin/aether.js serve $FUNCTION\"; exec fwatchdog"]
