FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY app/web/package.json app/web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
WORKDIR /srv/takeoff
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY data ./data
# The wheel carries the map libraries' dist folders (see [tool.hatch] artifacts).
COPY --from=web /web/node_modules ./app/web/node_modules
RUN pip install --no-cache-dir . && rm -rf /srv/takeoff/app
ENV TAKEOFF_DATA_DIR=/var/lib/takeoff
EXPOSE 8000
CMD ["sh", "-c", "takeoff db upgrade && takeoff serve --host 0.0.0.0 --port 8000 --workers 2"]
