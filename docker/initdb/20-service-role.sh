#!/bin/sh
# Runs once, when the PostGIS container creates its cluster: the API's least-privilege
# login (migration 0007 grants opportunity_service what the service needs, and no
# UPDATE, DELETE or TRUNCATE of the audit log). The migrate service runs as the owner.
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$OPPORTUNITY_APP_PASSWORD" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE opportunity_service NOLOGIN;
CREATE ROLE opportunity_app LOGIN PASSWORD :'app_password' IN ROLE opportunity_service;
SQL
