# syntax=docker/dockerfile:1
# Build stage: install calbot and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN python -m venv /opt/calbot \
 && /opt/calbot/bin/python -m pip install --no-cache-dir .

# Run stage: the virtual environment only, run as an unprivileged user.
FROM python:3.11-slim
# The fonts /calendar view draws with (bot/render/fonts.py): Latin, Greek and Cyrillic; CJK; emoji.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-wqy-microhei fonts-symbola \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin calbot \
 && mkdir -p /app/data \
 && chown calbot:calbot /app/data
COPY --from=build /opt/calbot /opt/calbot
ENV PATH=/opt/calbot/bin:$PATH \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER calbot
# The default database URL, sqlite:///data/calbot.sqlite3, is relative to /app.
VOLUME ["/app/data"]
# The same command the README runs; `docker stop` sends SIGTERM, which closes calbot cleanly.
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
