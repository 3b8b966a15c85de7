#!/bin/sh
# One image, one entry per app: `docker run mta mx`, `docker run mta migrate`, ...
set -e
case "${1:-}" in
  migrate) exec npm run --silent db:migrate ;;
  mx|submission|queue|delivery|policy|admin-api|all-in-one)
    app=$1; shift; exec node --enable-source-maps "dist/apps/$app/main.js" "$@" ;;
  *) echo "usage: <mx|submission|queue|delivery|policy|admin-api|all-in-one|migrate>" >&2; exit 64 ;;
esac
