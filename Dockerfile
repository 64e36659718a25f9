# syntax=docker/dockerfile:1
# The floodgate services image: API, migrations, workers, tracker (and, with issue 6, the
# autoscaler and backups) — one image, the entry point chosen by the container's command:
#   node dist/services/src/main/<api|migrate|tracker|orders-worker|red-packet-worker>.js
# It carries the runbooks too, run in the stack's `runbooks` container:
#   node dist/runbooks/main.js <runbook> --target docker
# Built by `pulumi up` on the Docker target (only when this context changes) or pushed per release.

# Node 24 LTS, the same version package.json pins for development.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# --- build: compile the entry points, the runbooks and everything they import -------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Install scripts are not needed (DESIGN.md) and would reach out to the network.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY infra/topology infra/topology
COPY infra/render infra/render
COPY scripts/stack scripts/stack
COPY services services
COPY runbooks runbooks
# Compiled ahead of time, not run through tsx: no transpiling on every start (autoscaled replicas
# come up faster) and no devDependencies in the runtime image. Only the entry points' and the
# runbooks' import graph is compiled, with the repository tsconfig's compiler options (every
# runbook is listed: runbooks/main.js loads them by name; .dockerignore keeps the tests out).
RUN npx tsc --ignoreConfig --outDir dist --rootDir . \
      --module nodenext --moduleResolution nodenext --target es2022 --strict --esModuleInterop \
      --skipLibCheck --resolveJsonModule --isolatedModules --types node \
      services/src/main/*.ts runbooks/*.ts runbooks/lib/*.ts \
 && cp -r services/migrations dist/services/migrations

# --- deps: production dependencies only ----------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The Pulumi SDKs and zx serve infra/ and the local-stack scripts, never the services or the
# runbooks: drop them too.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm uninstall --omit=dev --ignore-scripts --no-audit --no-fund @pulumi/pulumi @pulumi/docker @pulumi/kubernetes zx \
 && npm cache clean --force

# --- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# Backups dump MariaDB from a replica and snapshot Redis with the engines' own clients, which the
# runbooks use too (Debian 12 ships the 10.11 and 7.0 clients, matching the servers); the restore
# drill restores each backup into a scratch server of its own (mariadbd from mariadb-server-core,
# running as the image's user, reachable only on its socket).
RUN apt-get update \
 && apt-get install -y --no-install-recommends mariadb-client mariadb-server-core redis-tools \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY package.json ./
# The image's own user (uid 1000); the code is root-owned and read-only to it.
RUN mkdir -p /var/lib/floodgate/static /var/lib/floodgate/backups \
 && chown node:node /var/lib/floodgate/static /var/lib/floodgate/backups
USER node
# The API's health endpoint; workers, the tracker and jobs get their own check from the deployment.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || '8101') + '/api/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/services/src/main/api.js"]
