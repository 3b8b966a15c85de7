# One image for every service; the first argument chooses it (see tools/docker-entrypoint.sh):
#   docker build -t mta . && docker run mta mx
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run db:generate && npx nx run-many -t build --outputStyle=static

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY prisma.config.ts ./
COPY libs/db/prisma ./libs/db/prisma
COPY tools/docker-entrypoint.sh ./tools/docker-entrypoint.sh
USER node
ENTRYPOINT ["/app/tools/docker-entrypoint.sh"]
CMD ["all-in-one"]
