#!/bin/sh
# Run once by the postgres image when its volume is new (/docker-entrypoint-initdb.d): the role the
# web, worker and beat processes connect as. It owns nothing; `manage.py db_grant_app_role` (run by
# the migrate service after each migration) gives it rows, and only INSERT/SELECT on the audit log.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE marketplace_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${APP_DB_PASSWORD:-marketplace_app}';
SQL
