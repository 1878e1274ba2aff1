"""Benchmark the HTTP API as it runs: `python -m bot api`, one process, over a real SQLite file.

1. `POST /v1/events/list/month` on a guild with 10,000 events (spread over 2026, about 830 a month), driven
   by wrk (a real load generator; `apt-get install -y wrk` is run if it is missing) for --seconds with
   --connections connections: requests/s, and the latency percentiles wrk measures.
   Target: at least 1,000 requests/s with p99 under 50 ms.
2. The same month right after a write (the response cache is invalidated each time): latency per request.
3. `POST /v2/events/batch` with 100 events, one after another: latency per batch (target: under 100 ms).

Prints the figures; asserts nothing.

    python bench/api_bench.py [--events 10000] [--seconds 15] [--connections 32] [--batches 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sample import store_sample_events  # noqa: E402
from bot.storage import open_store  # noqa: E402

GUILD = 375357265198317579
MONTH_START = datetime(2026, 6, 1, tzinfo=UTC)
LUA = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def summary(label: str, samples: list[float]) -> str:
    return (
        f"{label:<52} median {statistics.median(samples) * 1000:7.2f} ms   "
        f"p99 {percentile(samples, 0.99) * 1000:7.2f} ms   max {max(samples) * 1000:7.2f} ms   n={len(samples)}"
    )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing; installing it with apt-get")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


async def fill(url: str, count: int) -> str:
    """Store `count` events in one guild; return a write token for it."""
    store = await open_store(url)
    try:
        await store_sample_events(store, GUILD, count)
        _token, text = await store.tokens.create(GUILD, "bench", "write")
        return text
    finally:
        await store.close()


def parse_wrk(output: str) -> dict[str, float]:
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    units = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    for percent in ("50", "75", "90", "99"):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        figures[f"p{percent}"] = float(match.group(1)) * units[match.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return figures


async def main(events: int, seconds: int, connections: int, batches: int) -> None:
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "calbot.sqlite3"
        port = free_port()
        config = Path(folder) / "config.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{database}"\n[logging]\nlevel = "WARNING"\n'
            f"[api]\nport = {port}\nrate_limit_per_minute = 1000000\n",
            encoding="utf-8",
        )
        started = time.perf_counter()
        token = await fill(f"sqlite:///{database}", events)
        print(f"filled {events} events in {time.perf_counter() - started:.1f} s")

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "api", "--config", str(config), cwd=ROOT, env=env
        )
        base = f"http://127.0.0.1:{port}"
        month = {"guild_id": GUILD, "DaysInMonth": 30, "EpochStart": int(MONTH_START.timestamp() * 1000)}
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with aiohttp.ClientSession(base) as http:
                for _ in range(100):
                    try:
                        async with http.get("/openapi.json") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                async with http.post("/v1/events/list/month", json=month, headers=headers) as response:
                    listed = await response.json()
                print(f"/v1/events/list/month: {listed['count']} events in June 2026, {response.content_length} bytes")

                # 1. wrk against the cached month
                script = Path(folder) / "month.lua"
                script.write_text(LUA % (json.dumps(month), token), encoding="utf-8")
                command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                           f"{base}/v1/events/list/month"]  # fmt: skip
                result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, check=True)
                figures = parse_wrk(result.stdout)
                latency = ", ".join(f"{p} {figures[p]:.2f} ms" for p in ("p50", "p90", "p99"))
                print(
                    f"wrk list/month ({connections} connections, {seconds} s, 1 wrk thread): "
                    f"{figures['rps']:.0f} requests/s; latency {latency}; non-2xx {figures['non_2xx']:.0f}"
                )

                # 2. the month right after a write: computed afresh each time
                fresh = []
                for n in range(50):
                    body = {"name": f"Write {n}", "starts": "2027-01-01T00:00:00Z"}
                    async with http.post("/v2/events", json=body, headers=headers) as response:
                        assert response.status == 201
                    t0 = time.perf_counter()
                    async with http.post("/v1/events/list/month", json=month, headers=headers) as response:
                        await response.read()
                    fresh.append(time.perf_counter() - t0)
                print(summary("list/month after a write (not cached)", fresh))

                # 3. batches of 100 events
                timings = []
                for n in range(batches):
                    resources = [
                        {"name": f"Batch {n}.{i}", "starts": f"2027-02-{i % 28 + 1:02d}T18:00:00Z",
                         "ends": f"2027-02-{i % 28 + 1:02d}T20:00:00Z", "notifications_interval": ["pt15m"],
                         "notifications_channels": ["discord_public"], "calendar_id": 1 + i % 4}
                        for i in range(100)
                    ]  # fmt: skip
                    t0 = time.perf_counter()
                    async with http.post("/v2/events/batch", json={"resources": resources}, headers=headers) as r:
                        await r.read()
                        assert r.status == 200, await r.text()
                    timings.append(time.perf_counter() - t0)
                print(summary("POST /v2/events/batch, 100 events", timings))
        finally:
            server.send_signal(signal.SIGTERM)
            await asyncio.wait_for(server.wait(), timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batches", type=int, default=30)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.seconds, options.connections, options.batches))
