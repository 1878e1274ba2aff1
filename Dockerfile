# syntax=docker/dockerfile:1
# Build stage: install calbot into a virtual environment, its dependencies at the exact versions (and
# hashes) of requirements.lock, which CI installs and checks the same way. Refresh it with scripts/lock.
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.lock ./
RUN python -m venv /opt/calbot \
 && /opt/calbot/bin/python -m pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN /opt/calbot/bin/python -m pip install --no-cache-dir --no-deps . \
 && /opt/calbot/bin/python -m pip check

# Run stage: the virtual environment only, run as an unprivileged user (uid 10001: a data folder mounted
# from the host must be writable by it, `chown -R 10001 ./data`; calbot says so in one line if it is not).
FROM python:3.11-slim
# The fonts /calendar view draws with (bot/render/fonts.py): Latin, Greek and Cyrillic; CJK; emoji.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-wqy-microhei fonts-symbola \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin calbot \
 && mkdir -p /app/data \
 && chown calbot:calbot /app/data
COPY --from=build /opt/calbot /opt/calbot
# CALBOT_METRICS_ENABLED: /healthz, /readyz and /metrics on [metrics] host:port, 127.0.0.1:9464 unless the
# config says otherwise: inside the container only, for the HEALTHCHECK below.
ENV PATH=/opt/calbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CALBOT_METRICS_ENABLED=true
WORKDIR /app
USER calbot
# The default database URL, sqlite:///data/calbot.sqlite3, is relative to /app.
VOLUME ["/app/data"]
# /healthz answers while the process runs (it is served before the login); /readyz is for orchestrators
# that should hold traffic back while the database or the gateway is down, not restart the container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
# The same command the README runs; `docker stop` sends SIGTERM, which closes calbot cleanly.
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
