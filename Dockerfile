# The pingan application image: web (gunicorn), scheduler and migrations share it.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY workflow ./workflow
COPY webapp ./webapp
COPY definitions ./definitions
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[server]"

FROM python:3.11-slim
# no compilers or build tools in the final image: only the wheels built above
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels pingan[server] \
    && rm -rf /wheels \
    && useradd --system --create-home --home-dir /var/lib/pingan pingan
USER pingan
WORKDIR /var/lib/pingan
ENV PINGAN_INSTANCE_PATH=/var/lib/pingan/instance \
    PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["gunicorn", "--workers", "4", "--bind", "0.0.0.0:8000", "webapp.wsgi:app"]
