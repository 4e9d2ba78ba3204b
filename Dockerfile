# syntax=docker/dockerfile:1
# Production image: the API only; PostGIS runs in its own container (docker-compose.yml).

# MapLibre GL JS for the map page, Swagger UI and ReDoc for the API docs, from the npm
# registry (package-lock.json pins them).
FROM node:22-bookworm-slim AS web
WORKDIR /web
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /srv/opportunity
# Dependencies first, so that code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.11
COPY app ./app
COPY ingest ./ingest
COPY geo ./geo
COPY alembic ./alembic
COPY alembic.ini ./
COPY data/presets ./data/presets
COPY --from=web /web/node_modules/maplibre-gl/dist ./node_modules/maplibre-gl/dist
COPY --from=web /web/node_modules/swagger-ui-dist ./node_modules/swagger-ui-dist
COPY --from=web /web/node_modules/redoc/bundles ./node_modules/redoc/bundles
RUN uv sync --frozen --no-dev --python /usr/local/bin/python3.11

FROM python:3.11-slim-bookworm AS runtime
# pango and fonts: WeasyPrint prints the site exposés and comparisons with them
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system opportunity \
    && useradd --system --gid opportunity --home-dir /srv/opportunity --shell /usr/sbin/nologin opportunity
WORKDIR /srv/opportunity
COPY --from=build --chown=opportunity:opportunity /srv/opportunity /srv/opportunity
ENV PATH="/srv/opportunity/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    OPPORTUNITY_DATA_DIR=/var/lib/opportunity \
    OPPORTUNITY_API_HOST=0.0.0.0 \
    OPPORTUNITY_API_PORT=8000
RUN mkdir -p /var/lib/opportunity && chown opportunity:opportunity /var/lib/opportunity
USER opportunity
EXPOSE 8000
VOLUME ["/var/lib/opportunity"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
# DATABASE_URL is required in this image: there is no embedded cluster in a container.
CMD ["opportunity", "serve"]
