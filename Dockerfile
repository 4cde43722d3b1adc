# syntax=docker/dockerfile:1
# The service's image, in three stages: the production dependencies, the build, and the runtime,
# which takes from the other two only what runs: node_modules, dist/, the built admin page
# (portal/dist), package.json (the version) and the migrations. test/e2e/dockerfile-replay.test.ts replays these steps and starts the result.
# Node 26 is the Active LTS (since 2026-10-28); package.json's `engines` lists every version the
# code supports.

# Production dependencies only: no dev dependencies, no optional ones (the Prisma CLI and Studio,
# which @prisma/client lists as an optional peer, and the embedded database, PGlite), and no install
# scripts, ours (`prisma generate`) included. The npm cache stays behind in this stage.
FROM node:26-trixie-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# Every dependency, then the Prisma client generated into src/generated once all of them are in
# place (an install script of its own would run before the Prisma CLI's dependencies are), then tsc
# compiles src/ (the generated client with it) into dist/.
FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/prisma-generate.js ./scripts/
COPY prisma/schema.prisma ./prisma/
COPY prisma.config.ts ./
RUN npm run prisma:generate
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The admin page: typed operations generated from schema.graphql, then `vite build` into portal/dist.
COPY schema.graphql ./
COPY scripts/portal-build.js ./scripts/
COPY portal ./portal
RUN npm run portal:build

FROM node:26-trixie-slim AS runtime
# The runtime listener (the gateway's data plane) binds all interfaces too: inside a container,
# 127.0.0.1 is reachable from nowhere else. It takes runtime tokens only.
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 RUNTIME_HOST=0.0.0.0 RUNTIME_PORT=4001
WORKDIR /app
COPY package.json ./
COPY prisma/migrations ./prisma/migrations
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/portal/dist ./portal/dist
# Everything above belongs to root; the service writes nothing under /app.
USER node
EXPOSE 4000 4001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/readyz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
