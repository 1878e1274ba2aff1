"""What an operator watches: Prometheus metrics, and the health and readiness of the process.

One `Metrics` per process, on a registry of its own (several bots in one test process must not add up).
The engine, the Discord sender and the API count through it; what only the database knows (the backlog of
due reminders, the oldest one's age) and the gateway's latency are read when Prometheus scrapes.

`OpsServer` serves `/metrics`, `/healthz` and `/readyz` on `[metrics] host:port`, an address of its own: the
metrics say how busy each server is, which is nobody's business on the public API port. `/healthz` says the
process answers; `/readyz` runs each readiness check (the database, the gateway, the dispatcher) and answers
503 naming what failed. The API app answers `/healthz` and `/readyz` too, so an API process can be probed
on the one port it has.

Imports nothing of ours: what it reads (the store, the bot) comes in as callables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0  # seconds one readiness check may take before it counts as failed
# Due-to-sent lag: under a second when all is well, minutes when Discord throttles, hours after an outage.
LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, float("inf"))


@dataclass(frozen=True, slots=True)
class Backlog:
    """The outbox's due reminders not yet handled: how many, and how long the oldest has been due (seconds)."""

    due: int
    oldest_age: float


class Outbox(Protocol):
    async def backlog(self, now: datetime) -> tuple[int, datetime | None]: ...


async def outbox_backlog(outbox: Outbox, now: datetime) -> Backlog:
    """The outbox's backlog at `now` (store.reminders.backlog), as the metrics report it."""
    due, oldest = await outbox.backlog(now)
    return Backlog(due=due, oldest_age=0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()))


class _ScrapeTime(Collector):
    """Gauges whose values are read when Prometheus scrapes: set by `Metrics.refresh` just before."""

    def __init__(self) -> None:
        self.backlog: Backlog | None = None
        self.latencies: Callable[[], Iterable[tuple[int | None, float]]] | None = None

    def collect(self) -> Iterable[GaugeMetricFamily]:
        if self.backlog is not None:
            yield GaugeMetricFamily(
                "calbot_outbox_backlog", "Reminders due and not yet handled (pending or claimed)", self.backlog.due
            )
            yield GaugeMetricFamily(
                "calbot_outbox_oldest_pending_age_seconds",
                "How long the oldest unhandled due reminder has been due (0: none)",
                self.backlog.oldest_age,
            )
        if self.latencies is not None:
            family = GaugeMetricFamily(
                "calbot_gateway_latency_seconds", "Discord gateway heartbeat latency per shard", labels=["shard"]
            )
            for shard, seconds in self.latencies():
                family.add_metric(["none" if shard is None else str(shard)], seconds)
            yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.reminders_due = Counter(
            "calbot_reminders_due", "Reminders claimed because they fell due", ["channel"], registry=registry
        )
        self.reminders_sent = Counter("calbot_reminders_sent", "Reminders delivered", ["channel"], registry=registry)
        self.reminders_failed = Counter(
            "calbot_reminders_failed", "Reminders that could not be delivered", ["channel"], registry=registry
        )
        self.reminders_missed = Counter(
            "calbot_reminders_missed", "Reminders no longer useful when handled", ["channel"], registry=registry
        )
        self.reminder_lag = Histogram(
            "calbot_reminder_lag_seconds", "From a reminder's due time to its delivery", ["channel"],
            buckets=LAG_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.discord_requests = Counter(
            "calbot_discord_requests", "HTTP requests to Discord, by status", ["status"], registry=registry
        )
        self.discord_rate_limited = Counter(
            "calbot_discord_rate_limited", "Discord requests answered 429, by X-RateLimit-Scope", ["scope"],
            registry=registry,
        )  # fmt: skip
        self.api_requests = Counter(
            "calbot_api_requests", "HTTP API requests by route and status", ["method", "route", "status"],
            registry=registry,
        )  # fmt: skip
        self.ready = Gauge("calbot_ready", "1 when /readyz answers ready", registry=self.registry)
        self._scrape = _ScrapeTime()
        self.registry.register(self._scrape)
        self.backlog: Callable[[], Awaitable[Backlog]] | None = None

    def watch_gateway(self, latencies: Callable[[], Iterable[tuple[int | None, float]]]) -> None:
        """Report the gateway's latency at each scrape: `latencies()` gives (shard, seconds) pairs."""
        self._scrape.latencies = latencies

    def count_discord_response(self, status: int, scope: str | None) -> None:
        self.discord_requests.labels(str(status)).inc()
        if status == 429:
            self.discord_rate_limited.labels(scope or "unknown").inc()

    async def exposition(self) -> bytes:
        """The text Prometheus scrapes, with the backlog read from the database now."""
        if self.backlog is not None:
            try:
                self._scrape.backlog = await asyncio.wait_for(self.backlog(), CHECK_TIMEOUT)
            except Exception as error:  # a scrape during an outage still answers, without the backlog
                log.warning("Could not read the outbox backlog for /metrics: %s", error)
                self._scrape.backlog = None
        return generate_latest(self.registry)


# ---- health and readiness

Check = Callable[[], Awaitable[str | None]]  # None: fine; else what is wrong, in a few words


class Readiness:
    """Named readiness checks; the process is ready when every one passes."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self.checks: dict[str, Check] = {}
        self.metrics = metrics

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def problems(self) -> dict[str, str]:
        """What keeps the process from being ready, by check; empty when it is ready."""
        found: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                problem = await asyncio.wait_for(check(), CHECK_TIMEOUT)
            except TimeoutError:
                problem = f"no answer within {CHECK_TIMEOUT:g} s"
            except Exception as error:
                problem = f"{type(error).__name__}: {error}"
            if problem is not None:
                found[name] = problem
        if self.metrics is not None:
            self.metrics.ready.set(0 if found else 1)
        return found


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def readyz_handler(readiness: Readiness) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def readyz(_request: web.Request) -> web.Response:
        problems = await readiness.problems()
        if problems:
            return web.json_response({"status": "unready", "problems": problems}, status=503)
        return web.json_response({"status": "ready", "checks": sorted(readiness.checks)})

    return readyz


def add_health_routes(app: web.Application, readiness: Readiness) -> None:
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz_handler(readiness), name="readyz")


class CannotServe(Exception):
    """The metrics address is taken or not ours to listen on."""

    def __init__(self, address: str, reason: object) -> None:
        super().__init__(f"{address}: {reason}")
        self.address, self.reason = address, reason


class OpsServer:
    """`/metrics`, `/healthz` and `/readyz` on an address of their own."""

    def __init__(self, metrics: Metrics, readiness: Readiness, host: str, port: int) -> None:
        self.metrics, self.host, self.port = metrics, host, port
        self.app = web.Application()
        self.app.router.add_get("/metrics", self._metrics)
        add_health_routes(self.app, readiness)
        self._runner: web.AppRunner | None = None

    @property
    def port_bound(self) -> int:
        """The port listened on (the system's choice for port 0)."""
        assert self._runner is not None
        return self._runner.addresses[0][1]

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = await self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except OSError as error:
            await self._runner.cleanup()
            self._runner = None
            raise CannotServe(f"{self.host}:{self.port}", error.strerror or error) from None
        log.info("Metrics and health checks on http://%s:%s/metrics", self.host, self.port_bound)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
