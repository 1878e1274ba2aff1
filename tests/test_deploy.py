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


def test_the_api_listens_where_its_port_is_published(tmp_path: Path) -> None:
    config = config_of("api", tmp_path)
    assert (config.api.host, config.api.port) == ("0.0.0.0", 8080)
    assert CALBOT_SERVICES["api"]["ports"] == [f"{config.api.port}:{config.api.port}"]


def test_postgres_is_migrated_before_anything_starts() -> None:
    for name in ("bot-a", "bot-b", "api"):
        assert CALBOT_SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert CALBOT_SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
