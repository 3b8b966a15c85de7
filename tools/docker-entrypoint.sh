#!/bin/sh
# One image, one entry per app: `docker run mta mx`, `docker run mta migrate`, ...
# Each app replaces this shell (exec), so the signals tini passes on reach node itself.
# `all-in-one` supervises one process per service (ALL_IN_ONE_MODE=single: one process for all);
# it passes SIGTERM on to each and exits when they all have.
set -e
case "${1:-}" in
  migrate)
    # `npm run db:migrate` without npm (which wants a writable home): Prisma Migrate, idempotent,
    # serialised by its PostgreSQL advisory lock, so every pod's init container may run it.
    # One line on success; Prisma's report without its noise on failure (migrate.mjs).
    exec node libs/db/prisma/migrate.mjs ;;
  mx|submission|queue|delivery|policy|admin-api|all-in-one)
    app=$1; shift; exec node --enable-source-maps "dist/apps/$app/main.js" "$@" ;;
  *) echo "usage: <mx|submission|queue|delivery|policy|admin-api|all-in-one|migrate>" >&2; exit 64 ;;
esac
