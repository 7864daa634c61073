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
# job inputs and results: a volume in docker-compose.yml, owned by the user the app runs as
RUN useradd --system --no-create-home takeoff && install -d -o takeoff /var/lib/takeoff
USER takeoff
ENV TAKEOFF_DATA_DIR=/var/lib/takeoff
EXPOSE 8000
# `exec`: the server replaces the shell, so SIGTERM from `docker stop` reaches it
CMD ["sh", "-c", "takeoff db upgrade && exec takeoff serve --host 0.0.0.0 --port 8000 --workers 2"]
