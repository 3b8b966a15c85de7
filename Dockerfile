# One image for every service and for the migration; the first argument chooses
# (tools/docker-entrypoint.sh): `docker build -t mta . && docker run mta mx`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run db:generate && npx nx run-many -t build --outputStyle=static

FROM node:24-bookworm-slim AS runtime
# tini as PID 1: passes SIGTERM on to node (which drains, libs/runtime/src/shutdown.ts) and
# reaps any orphaned child, e.g. of the Prisma CLI during `migrate`.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# Production dependencies only (the Prisma CLI among them, for `migrate`).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY prisma.config.ts ./
COPY libs/db/prisma ./libs/db/prisma
COPY tools/docker-entrypoint.sh ./tools/docker-entrypoint.sh
# The only paths the MTA writes: the Maildir of local delivery (LOCAL_DELIVERY's default) and
# /tmp. Everything else can be read-only (Kubernetes: readOnlyRootFilesystem).
RUN mkdir -p /var/spool/mta/maildir && chown 1000:1000 /var/spool/mta/maildir
VOLUME ["/var/spool/mta/maildir", "/tmp"]
# The image's `node` user, by number, so that Kubernetes can check runAsNonRoot.
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--", "/app/tools/docker-entrypoint.sh"]
CMD ["all-in-one"]
