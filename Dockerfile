# syntax=docker/dockerfile:1
# om-migrate images. Three targets, one om-migrate build:
#
#   docker build --target server    --build-arg OM_VERSION=1.13.1 -t om-migrate/server:1.13.1 .
#       OpenMetadata's own server image (openmetadata/server:${OM_VERSION}) with Node.js, the dump/client tools and
#       om-migrate added. Same user, workdir, ENTRYPOINT and CMD as OpenMetadata's image: a drop-in replacement that
#       starts the server exactly as before; `om-migrate entrypoint -- /openmetadata-start.sh` (or `om-migrate up`)
#       is there to be used by a compose file, a Deployment or a Job.
#   docker build --target ingestion --build-arg OM_VERSION=1.13.1 -t om-migrate/ingestion:1.13.1 .
#       OpenMetadata's ingestion image (Airflow) with Node.js, a current pg_dump, the MariaDB client and om-migrate,
#       for the Airflow database (`om-migrate up` repairs a half-applied d59cbbef95eb, then runs `airflow db migrate`).
#   docker build -t om-migrate .                                                   (target standalone, the default)
#       a slim image for preflight, backup, restore, status and revert-params; it holds neither Java nor Airflow.
#
# OM_VERSION has no usable default on purpose: a layered image built without it would carry another release's
# migrators than the server it stands beside. Forgetting it fails the build at the FROM (no such tag), nothing else.
# The top-level docker-compose.yml passes it from its one required variable.
#
# Nothing here could be built where this file was written (no Docker engine, no registry): see deploy/README.md for
# what was checked and what was not.

# The OpenMetadata release the layered images are built on: pass it (--build-arg OM_VERSION=1.13.1). The placeholder is
# a valid tag that no registry has, so `docker build --target server .` without it stops at the FROM with this name.
ARG OM_VERSION=pass-build-arg-OM_VERSION
# OpenMetadata's images (docker.getcollate.io/openmetadata/... is the same image under OpenMetadata's own registry).
ARG OM_SERVER_IMAGE=openmetadata/server
ARG OM_INGESTION_IMAGE=openmetadata/ingestion
# pg_dump must be at least the server's major version: take the newest PostgreSQL major.
ARG PG_MAJOR=17
# Node.js 20 (om-migrate needs >= 20.19). The server image is Alpine (musl): its node comes from the Alpine variant.
ARG NODE_ALPINE_IMAGE=node:20-alpine
ARG NODE_DEBIAN_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript with the dev dependencies -------------------------------------------------------------
FROM ${NODE_DEBIAN_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY preflight ./preflight
COPY migrations ./migrations
COPY test ./test
RUN npm run build

# ---- app: om-migrate as it is installed in every image: production dependencies and the compiled code ----------------
# Every dependency is plain JavaScript (knex, mysql2, pg, yargs…: no native addon), so this one tree runs on musl
# (server, standalone) and on glibc (ingestion) alike.
FROM ${NODE_ALPINE_IMAGE} AS app
WORKDIR /opt/om-migrate
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/preflight ./dist/preflight
COPY --from=build /src/dist/migrations ./dist/migrations
RUN chmod 0755 dist/src/cli/main.js

# ---- node-alpine / node-debian: where the node binary is copied from -------------------------------------------------
FROM ${NODE_ALPINE_IMAGE} AS node-alpine
FROM ${NODE_DEBIAN_IMAGE} AS node-debian

# ---- pgclient-alpine: pg_dump, pg_restore and psql of the newest major, with the list of libraries they need ---------
# The official postgres Alpine image builds them into /usr/local (libpq in /usr/local/lib, found through its rpath).
# scanelf lists the shared objects they need that are not in /usr/local/lib; the images that copy them install those
# with apk ("so:" names), so they get their own Alpine release's builds of OpenSSL, zstd, lz4, krb5, LDAP…
FROM postgres:${PG_MAJOR}-alpine AS pgclient-alpine
RUN apk add --no-cache pax-utils \
 && mkdir -p /out/usr/local/bin /out/usr/local/lib /out/usr/local/share/om-migrate \
 && cp -a /usr/local/bin/pg_dump /usr/local/bin/pg_restore /usr/local/bin/psql /out/usr/local/bin/ \
 && cp -a /usr/local/lib/libpq.so.5* /out/usr/local/lib/ \
 && scanelf --needed --nobanner --format '%n#p' /out/usr/local/bin/* /out/usr/local/lib/libpq.so.5 \
      | tr ',' '\n' | sort -u \
      | awk 'system("[ -e /out/usr/local/lib/" $1 " ]") == 0 { next } { print "so:" $1 }' \
      > /out/usr/local/share/om-migrate/pgclient-deps.txt

# ---- server: OpenMetadata's server image + Node.js + client tools + om-migrate ---------------------------------------
FROM ${OM_SERVER_IMAGE}:${OM_VERSION} AS server
ARG OM_VERSION
ARG PG_MAJOR
USER root
# Node.js: the official Alpine build (musl, as this image) rather than apk's nodejs, whose version follows the Alpine
# release OpenMetadata's image happens to be built on (3.20 ships 20.15, below the 20.19 om-migrate needs).
# It needs libstdc++/libgcc from apk, as in the node image itself.
COPY --from=node-alpine /usr/local/bin/node /usr/local/bin/node
COPY --from=pgclient-alpine /out/ /
# mariadb-client: mariadb-dump/mariadb (and the mysqldump/mysql names) for MySQL 8 and MariaDB servers.
# zstd: compressed backups. The pg tools' libraries come from the list written in pgclient-alpine.
RUN apk add --no-cache libstdc++ libgcc mariadb-client zstd $(cat /usr/local/share/om-migrate/pgclient-deps.txt) \
 && install -d -o openmetadata -g openmetadata -m 0700 /var/lib/om-migrate /var/lib/om-migrate/backups
COPY --from=app /opt/om-migrate /opt/om-migrate
RUN ln -s /opt/om-migrate/dist/src/cli/main.js /usr/local/bin/om-migrate \
 && node --version && pg_dump --version && mariadb-dump --version && om-migrate --version
LABEL org.opencontainers.image.title="OpenMetadata server ${OM_VERSION} with om-migrate" \
      org.openmetadata.om-migrate.pg-major="${PG_MAJOR}"
# Backups go to a volume mounted here (compose: a named volume; Kubernetes: a PVC).
ENV OM_MIGRATE_BACKUP_DIR=/var/lib/om-migrate/backups
# Exactly as OpenMetadata's image: the server starts as before unless a compose file or a pod says otherwise.
USER openmetadata
WORKDIR /opt/openmetadata
ENTRYPOINT ["/bin/bash"]
CMD ["/openmetadata-start.sh"]

# ---- ingestion: OpenMetadata's ingestion image (Debian, Airflow) + Node.js + client tools + om-migrate ---------------
FROM ${OM_INGESTION_IMAGE}:${OM_VERSION} AS ingestion
ARG OM_VERSION
ARG PG_MAJOR
USER root
# Node.js: the official Debian bookworm build, the same glibc as this image (apache/airflow on bookworm).
COPY --from=node-debian /usr/local/bin/node /usr/local/bin/node
# pg_dump: Debian 12's is 15 and refuses newer servers; postgresql-common's own script adds the PostgreSQL project's
# apt repository (its key ships in the package) for postgresql-client-${PG_MAJOR}. The links in /usr/local/bin put it
# ahead of Debian's pg_wrapper. The MySQL side keeps the image's own mysqldump (MySQL 8) and adds the MariaDB client
# programs (mariadb-client-core: mariadb/mysql, no dump tool, so the image's mysqldump is left as it is).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-common ca-certificates \
 && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postgresql-client-${PG_MAJOR} mariadb-client-core zstd \
 && rm -rf /var/lib/apt/lists/* \
 && for tool in pg_dump pg_restore psql; do ln -sf /usr/lib/postgresql/${PG_MAJOR}/bin/$tool /usr/local/bin/$tool; done \
 && install -d -o airflow -g 0 -m 0770 /var/lib/om-migrate /var/lib/om-migrate/backups
COPY --from=app /opt/om-migrate /opt/om-migrate
RUN ln -s /opt/om-migrate/dist/src/cli/main.js /usr/local/bin/om-migrate \
 && node --version && pg_dump --version && om-migrate --version
LABEL org.opencontainers.image.title="OpenMetadata ingestion ${OM_VERSION} with om-migrate" \
      org.openmetadata.om-migrate.pg-major="${PG_MAJOR}"
ENV OM_MIGRATE_BACKUP_DIR=/var/lib/om-migrate/backups
# The image's own user; its ENTRYPOINT and CMD are inherited unchanged (the quickstart starts it with
# `/bin/bash /opt/airflow/ingestion_dependency.sh`, the Airflow chart with its own commands).
USER airflow

# ---- standalone (default): a slim om-migrate for preflight, backup, restore, status, revert-params ------------------
FROM ${NODE_ALPINE_IMAGE} AS standalone
COPY --from=pgclient-alpine /out/ /
# tini: signals reach om-migrate and its children are reaped.
RUN apk add --no-cache mariadb-client zstd tini $(cat /usr/local/share/om-migrate/pgclient-deps.txt) \
 && addgroup -S -g 10001 ommigrate \
 && adduser -S -D -u 10001 -G ommigrate -h /home/ommigrate -s /sbin/nologin ommigrate \
 && install -d -o ommigrate -g ommigrate -m 0700 /backups
COPY --from=app /opt/om-migrate /opt/om-migrate
RUN ln -s /opt/om-migrate/dist/src/cli/main.js /usr/local/bin/om-migrate \
 && pg_dump --version && mariadb-dump --version && om-migrate --version
ENV NODE_ENV=production OM_MIGRATE_BACKUP_DIR=/backups
VOLUME ["/backups"]
USER ommigrate
# One-shot by nature (preflight, backup, restore): nothing to probe while it runs, so no HEALTHCHECK.
ENTRYPOINT ["/sbin/tini", "--", "om-migrate"]
CMD ["--help"]
