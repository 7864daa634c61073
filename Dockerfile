FROM python:3.11-slim-bookworm
WORKDIR /srv/takeoff
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY data ./data
RUN pip install --no-cache-dir .
ENV TAKEOFF_DATA_DIR=/var/lib/takeoff
EXPOSE 8000
CMD ["sh", "-c", "takeoff db upgrade && takeoff serve --host 0.0.0.0 --port 8000 --workers 2"]
