# syntax=docker/dockerfile:1
# One image for the receiver, the worker and the simulator (the command picks one).
# The build stage compiles the TypeScript (scripts/build.ts); the image holds the
# compiled dist/ and production dependencies only, and runs as a non-root user.

FROM node:20-bookworm-slim AS manifests
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/core/package.json packages/core/
COPY packages/uipath-client/package.json packages/uipath-client/
COPY apps/receiver/package.json apps/receiver/
COPY apps/worker/package.json apps/worker/
COPY apps/orchestrator-sim/package.json apps/orchestrator-sim/

FROM manifests AS build
RUN pnpm install --frozen-lockfile
COPY scripts ./scripts
COPY packages ./packages
COPY apps ./apps
RUN pnpm build

FROM manifests AS deps
RUN pnpm install --frozen-lockfile --prod

FROM node:20-bookworm-slim
# A larger young generation: the receiver allocates ~25 KB per request, and with V8's default
# 16 MB semi-space it paused for a scavenge every ~45 ms (~6 % of its time); ~4-5 % more req/s
# measured with 32 MB (docs/benchmarks.md), for up to ~64 MB more memory per process.
# The receiver also turns off allocation-site pretenuring, from code (apps/receiver/src/heap-tuning.ts):
# NODE_OPTIONS refuses that flag.
ENV NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
COPY --from=deps --chown=node:node /app ./
COPY --from=build --chown=node:node /app/packages/core/dist ./packages/core/dist
COPY --from=build --chown=node:node /app/packages/uipath-client/dist ./packages/uipath-client/dist
COPY --from=build --chown=node:node /app/apps/receiver/dist ./apps/receiver/dist
COPY --from=build --chown=node:node /app/apps/worker/dist ./apps/worker/dist
COPY --from=build --chown=node:node /app/apps/orchestrator-sim/dist ./apps/orchestrator-sim/dist
COPY --chown=node:node config ./config
USER node
# Bull Board serves its static files relative to the working directory.
EXPOSE 8080 9464 8089
CMD ["node", "apps/receiver/dist/main.js"]
