"""compose.yaml and the Dockerfile, read the way Docker would read them: no Docker engine runs here, so
these hold the files to what calbot itself accepts (its commands, its config keys and variables)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.__main__ import _parser
from bot.config import load_config
from bot.domain.shards import Shards

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
CALBOT_SERVICES = {name: service for name, service in COMPOSE["services"].items() if service.get("image") == "calbot"}
# What `docker compose` would substitute for ${VARIABLE:?message}.
GIVEN = {"DISCORD_TOKEN": "token-from-the-environment", "POSTGRES_PASSWORD": "pw"}


def substituted(value: str) -> str:
    return re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", lambda m: GIVEN[m.group(1)], value)


def config_of(name: str, tmp_path: Path):
    """The configuration the service's process would load: the inline config file plus its environment."""
    service = CALBOT_SERVICES[name]
    [mounted] = service["configs"]
    assert mounted["target"] == "/app/config.toml"  # WORKDIR /app: read as ./config.toml
    path = tmp_path / "config.toml"
    path.write_text(COMPOSE["configs"][mounted["source"]]["content"], encoding="utf-8")
    environ = {key: substituted(str(value)) for key, value in service["environment"].items()}
    return load_config(str(path), environ=environ)


def test_every_calbot_service_builds_the_dockerfiles_image() -> None:
    assert set(CALBOT_SERVICES) == {"migrate", "bot-a", "bot-b", "api"}
    assert all(service["build"] == "." for service in CALBOT_SERVICES.values())
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["python", "-m", "bot"]' in dockerfile and "WORKDIR /app" in dockerfile


@pytest.mark.parametrize("name", ["migrate", "bot-a", "bot-b", "api"])
def test_each_service_runs_a_real_command_with_a_config_calbot_accepts(name: str, tmp_path: Path) -> None:
    service = CALBOT_SERVICES[name]
    _parser().parse_args(service["command"])  # `python -m bot <command>`: exits on an unknown command
    config = config_of(name, tmp_path)
    assert config.database.url == "postgresql://calbot:pw@postgres:5432/calbot"
    assert config.require_token() == "token-from-the-environment"


def test_the_bot_processes_share_out_the_shards(tmp_path: Path) -> None:
    shards = [config_of(name, tmp_path).discord.shards for name in ("bot-a", "bot-b")]
    assert shards == [Shards(4, (0, 1)), Shards(4, (2, 3))]
    assert sorted(shards[0].ids + shards[1].ids) == list(range(4))  # every shard runs, once


def test_the_api_listens_where_its_port_is_published_on_the_loopback_only(tmp_path: Path) -> None:
    config = config_of("api", tmp_path)
    assert (config.api.host, config.api.port) == ("0.0.0.0", 8080)  # inside the container
    assert CALBOT_SERVICES["api"]["ports"] == [f"127.0.0.1:{config.api.port}:{config.api.port}"]
    published = [p for service in COMPOSE["services"].values() for p in service.get("ports", [])]
    assert all(str(p).startswith("127.0.0.1:") for p in published), published


def test_the_bot_processes_share_discords_rate_limit(tmp_path: Path) -> None:
    rates = [config_of(name, tmp_path).discord.requests_per_second for name in ("bot-a", "bot-b")]
    assert rates == [24, 24]
    assert sum(rates) <= 48  # of Discord's 50 per second, with room for cards and commands


def test_the_image_installs_the_lock_file_and_checks_its_health(tmp_path: Path) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps ." in dockerfile  # calbot itself resolves nothing beyond the lock
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {line.split("==")[0] for line in lock.splitlines() if "==" in line and not line.startswith("#")}
    assert {"discord-py", "aiosqlite", "python-dateutil", "icalendar", "asyncpg", "prometheus-client"} <= pinned
    # The HEALTHCHECK asks /healthz on the metrics server, which the image turns on where the config leaves it.
    (tmp_path / "config.toml").write_text("", encoding="utf-8")  # the image's defaults, and its environment
    config = load_config(str(tmp_path / "config.toml"), environ={"CALBOT_METRICS_ENABLED": "true"})
    assert "ENV PATH=/opt/calbot/bin:$PATH" in dockerfile and "CALBOT_METRICS_ENABLED=true" in dockerfile
    assert config.metrics.enabled
    assert f"http://{config.metrics.host}:{config.metrics.port}/healthz" in dockerfile
    assert "HEALTHCHECK" in dockerfile


def test_postgres_is_migrated_before_anything_starts() -> None:
    for name in ("bot-a", "bot-b", "api"):
        assert CALBOT_SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert CALBOT_SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
