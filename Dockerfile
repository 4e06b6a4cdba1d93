# syntax=docker/dockerfile:1
# One image for the receiver, the worker and the simulator (the command picks one).
# Production dependencies only; TypeScript sources run through tsx (a runtime dependency).

FROM node:20-bookworm-slim AS deps
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/core/package.json packages/core/
COPY packages/uipath-client/package.json packages/uipath-client/
COPY apps/receiver/package.json apps/receiver/
COPY apps/worker/package.json apps/worker/
COPY apps/orchestrator-sim/package.json apps/orchestrator-sim/
RUN pnpm install --frozen-lockfile --prod

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps --chown=node:node /app ./
COPY --chown=node:node packages ./packages
COPY --chown=node:node apps ./apps
COPY --chown=node:node config ./config
USER node
# Bull Board serves its static files relative to the working directory.
EXPOSE 8080 9464 8089
CMD ["node", "--conditions=source", "--import", "tsx", "apps/receiver/src/main.ts"]
