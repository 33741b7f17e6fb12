# syntax=docker/dockerfile:1
# om-migrate: a small Node 20 runtime with the client tools its backups and checks need.
#   docker build -t om-migrate .
#   docker run --rm -e DB_HOST=… -e DB_USER_PASSWORD=… om-migrate preflight --dry-run

# ---- build: compile TypeScript with the dev dependencies -------------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY preflight ./preflight
COPY migrations ./migrations
COPY test ./test
RUN npm run build

# ---- runtime: production dependencies, compiled code, client tools, non-root user ------------------------------------
FROM node:20-bookworm-slim AS runtime

# mariadb-client: mariadb-dump / mariadb (and the mysqldump / mysql names) for MySQL 8 and MariaDB.
# postgresql-client: pg_dump / pg_restore / psql (Debian bookworm ships 15, which dumps servers up to 15; a newer server
#   needs a newer pg_dump: add the PGDG repository and postgresql-client-<major> in a derived image).
# zstd: backup compression. tini: signals reach om-migrate, and its children are reaped.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      mariadb-client postgresql-client zstd tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/om-migrate
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/preflight ./dist/preflight
COPY --from=build /src/dist/migrations ./dist/migrations
RUN chmod 0755 dist/src/cli/main.js && ln -s /opt/om-migrate/dist/src/cli/main.js /usr/local/bin/om-migrate

# Backups are written with mode 0600 by this user; mount a volume on /backups to keep them.
RUN groupadd --system --gid 10001 ommigrate \
 && useradd --system --uid 10001 --gid ommigrate --home-dir /home/ommigrate --create-home --shell /usr/sbin/nologin ommigrate \
 && install -d -o ommigrate -g ommigrate -m 0700 /backups
ENV OM_MIGRATE_BACKUP_DIR=/backups
VOLUME ["/backups"]
USER ommigrate

# One-shot by nature (up, preflight, backup): nothing to probe while it runs, so no HEALTHCHECK.
ENTRYPOINT ["tini", "--", "om-migrate"]
CMD ["--help"]
