# The pingan application image: web (gunicorn), scheduler and migrations share it.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY workflow ./workflow
COPY webapp ./webapp
COPY definitions ./definitions
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[server]"

FROM python:3.11-slim
# no compilers or build tools in the final image: only the wheels built above, and pg_dump/pg_restore for
# `pingan backup` / `pingan restore`
COPY --from=build /wheels /wheels
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir --no-index --find-links /wheels pingan[server] \
    && rm -rf /wheels \
    && useradd --system --create-home --home-dir /var/lib/pingan pingan \
    && install -d -o pingan -g pingan /var/lib/pingan/instance
USER pingan
WORKDIR /var/lib/pingan
# gunicorn's own lines (start-up, workers) follow PINGAN_LOG_FORMAT too; in JSON mode the app writes the access line
ENV PINGAN_INSTANCE_PATH=/var/lib/pingan/instance \
    PYTHONUNBUFFERED=1 \
    GUNICORN_CMD_ARGS="--logger-class webapp.logs.GunicornLogger"
EXPOSE 8000
CMD ["gunicorn", "--workers", "4", "--bind", "0.0.0.0:8000", "webapp.wsgi:app"]
