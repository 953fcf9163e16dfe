#!/bin/sh
# Run once by the postgres image when its volume is new (/docker-entrypoint-initdb.d): the server
# reads infra/postgres/tuning.conf (mounted at /etc/postgresql/tuning.conf) from its next start on,
# which the image's entrypoint does right after these scripts.
set -eu
echo "include '/etc/postgresql/tuning.conf'" >> "$PGDATA/postgresql.conf"
