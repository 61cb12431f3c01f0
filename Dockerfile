# syntax=docker/dockerfile:1
# Production image: multi-stage, production dependencies only, runs as the unprivileged `node`
# user, writes nowhere but DATA_DIR (/data), so it runs with a read-only root filesystem
# (`docker run --read-only --tmpfs /tmp -v data:/data ...`, or deploy/compose.yaml).
#
#   docker build -t portfolio-backend .
#   docker compose -f deploy/compose.yaml up -d
#
# The base image follows the Node 20 line the code targets; Dependabot (docker) proposes updates.
ARG NODE_VERSION=20.20.2

# ---- build: compile TypeScript with the dev dependencies ---------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no install script runs at build time (the "prepare" git-hook installer has
# nothing to do here, and dependency scripts are a classic supply-chain entry point).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# The web console (web/console, built by Vite into dist/web) and its build script.
COPY web ./web
COPY scripts/build-console.ts ./scripts/build-console.ts
COPY scripts/lib/console ./scripts/lib/console
# dist/ keeps only what the server and CLI run: the incremental-build state stays behind.
RUN npm run build && rm -f dist/.tsbuildinfo

# ---- prod-deps: exactly the lockfile's production dependencies ---------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# NODE_OPTIONS: the V8 options `npm start` gives the server (package.json): a young generation of
# 1 MB semi-spaces, what V8 picks by itself on a 512 MB-1 GB machine, whatever the host's memory
# (docs/ARCHITECTURE.md, "Footprint"). `docker run -e NODE_OPTIONS=` gives V8 its own choice back.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
# Application files belong to root and are read-only for the `node` user that runs them: a
# compromised process cannot rewrite its own code.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json SECURITY.md ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Liveness only (the process answers); readiness (/health/ready) is for the load balancer.
# Node's own fetch: the slim image has no curl, and adding one would widen the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# node directly, not npm: signals reach the server (graceful drain on SIGTERM) and npm would want
# to write its cache and logs to the read-only filesystem.
CMD ["node", "dist/server.js"]
