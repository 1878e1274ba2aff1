"""Settings from TOML plus the environment, validated once, every problem naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_API_BASE_URL,
    DEFAULT_DATABASE_URL,
    Config,
    ConfigError,
    DatabaseConfig,
    load_config,
    redact_url,
)
from bot.domain.shards import Shards

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.very-secret-token-text"


def write(folder: Path, body: str, name: str = "config.toml") -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here
    config = load_config(environ={})
    assert config.discord.token is None
    assert config.discord.api_base_url == DEFAULT_API_BASE_URL
    assert config.discord.gateway_url is None
    assert config.discord.command_guilds == ()
    assert config.database.url == DEFAULT_DATABASE_URL
    assert (config.defaults.timezone, config.defaults.reminders, config.defaults.channels) == (
        "UTC",
        ("pt15m",),
        ("discord_public",),
    )
    assert config.logging.level == "INFO"
    assert "no config file" in config.source
    assert (config.discord.shard_count, config.discord.shard_ids, config.discord.shards) == (None, None, None)
    assert (config.database.pool_min_size, config.database.pool_max_size) == (1, 10)


def test_config_toml_in_the_working_directory_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, '[logging]\nlevel = "debug"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(environ={}).logging.level == "DEBUG"


def test_values_from_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[discord]
token = "{TOKEN}"
api_base_url = "http://127.0.0.1:8080/api/v10/"
gateway_url = "ws://127.0.0.1:8080/gateway"
command_guilds = [123456789012345678, "234567890123456789"]

[database]
url = "sqlite:////srv/calbot/db.sqlite3"

[defaults]
timezone = "europe/berlin"
reminders = ["P1D", "pt15m"]
channels = ["both"]

[logging]
level = "warning"
""",
    )
    config = load_config(str(path), environ={})
    assert config.discord.token == TOKEN
    assert config.discord.api_base_url == "http://127.0.0.1:8080/api/v10"
    assert config.discord.gateway_url == "ws://127.0.0.1:8080/gateway"
    assert config.discord.command_guilds == (123456789012345678, 234567890123456789)
    assert config.database.url == "sqlite:////srv/calbot/db.sqlite3"
    assert config.defaults.timezone == "Europe/Berlin"
    assert config.defaults.reminders == ("pt15m", "p1d")
    assert config.defaults.channels == ("discord_private", "discord_public")
    assert config.logging.level == "WARNING"
    assert config.source == str(path)
    assert config.require_token() == TOKEN


def test_discord_token_in_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[discord]\ntoken = "from-file"\n')
    assert load_config(str(path), environ={"DISCORD_TOKEN": "from-env"}).discord.token == "from-env"
    assert load_config(str(path), environ={"DISCORD_TOKEN": ""}).discord.token == "from-file"
    assert load_config(str(path), environ={}).discord.token == "from-file"


def test_calbot_config_is_used_when_no_path_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, '[logging]\nlevel = "ERROR"\n')  # ./config.toml, which CALBOT_CONFIG beats
    other = write(tmp_path, '[logging]\nlevel = "DEBUG"\n', name="other.toml")
    assert load_config(environ={"CALBOT_CONFIG": str(other)}).logging.level == "DEBUG"
    explicit = write(tmp_path, '[logging]\nlevel = "CRITICAL"\n', name="explicit.toml")
    assert load_config(str(explicit), environ={"CALBOT_CONFIG": str(other)}).logging.level == "CRITICAL"


@pytest.mark.parametrize("via", ["path", "env"])
def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path, via: str) -> None:
    missing = str(tmp_path / "nope.toml")
    with pytest.raises(ConfigError) as caught:
        if via == "path":
            load_config(missing, environ={})
        else:
            load_config(environ={"CALBOT_CONFIG": missing})
    assert caught.value.key == missing
    assert "no such file" in str(caught.value)


def test_require_token_names_the_key(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, "")), environ={})
    with pytest.raises(ConfigError) as caught:
        config.require_token()
    assert caught.value.key == "discord.token"
    assert "DISCORD_TOKEN" in caught.value.problem


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("[discord]\ntoken = 1\n", "discord.token"),
        ("[discord]\ntoken = true\n", "discord.token"),
        ('[discord]\napi_base_url = "discord.com/api"\n', "discord.api_base_url"),
        ('[discord]\napi_base_url = "ftp://discord.com"\n', "discord.api_base_url"),
        ('[discord]\ngateway_url = "https://gateway.discord.gg"\n', "discord.gateway_url"),
        ('[discord]\napi_base_url = "http://127.0.0.1:None/api/v10"\n', "discord.api_base_url"),
        ('[discord]\ngateway_url = "ws://127.0.0.1:99999/gateway"\n', "discord.gateway_url"),
        ('[api]\npublic_url = "https://:443"\n', "api.public_url"),
        ('[discord]\ncommand_guilds = "x"\n', "discord.command_guilds"),
        ("[discord]\ncommand_guilds = 123\n", "discord.command_guilds"),
        ("[discord]\ncommand_guilds = [-1]\n", "discord.command_guilds"),
        ("[discord]\ncommand_guilds = [0]\n", "discord.command_guilds"),
        ("[discord]\ncommand_guilds = [true]\n", "discord.command_guilds"),
        ('[discord]\ncommand_guilds = ["abc"]\n', "discord.command_guilds"),
        ("[discord]\ncommand_guilds = [1.5]\n", "discord.command_guilds"),
        ('[discord]\ntokn = "typo"\n', "discord.tokn"),
        ('[database]\nurl = "mysql://u:p@localhost/calbot"\n', "database.url"),
        ('[database]\nurl = "postgresql://"\n', "database.url"),
        ('[database]\nurl = "postgresqlx://u@localhost/calbot"\n', "database.url"),
        ('[database]\nurl = "postgresql://u:p@localhost:abc/calbot"\n', "database.url"),
        ('[database]\nurl = "postgresql://u:p@db1:5432,db2:99999/calbot"\n', "database.url"),
        ('[database]\nurl = "postgresql://[::1]:x/calbot"\n', "database.url"),
        ("[database]\npool_min_size = 0\n", "database.pool_min_size"),
        ('[database]\npool_max_size = "10"\n', "database.pool_max_size"),
        ("[database]\npool_max_size = 2.5\n", "database.pool_max_size"),
        ("[database]\npool_min_size = 5\npool_max_size = 4\n", "database.pool_min_size"),
        ("[discord]\nshard_count = 0\n", "discord.shard_count"),
        ("[discord]\nshard_count = -2\n", "discord.shard_count"),
        ('[discord]\nshard_count = "4"\n', "discord.shard_count"),
        ("[discord]\nshard_count = true\n", "discord.shard_count"),
        ("[discord]\nshard_ids = [0]\n", "discord.shard_ids"),  # without shard_count
        ("[discord]\nshard_count = 2\nshard_ids = [2]\n", "discord.shard_ids"),
        ("[discord]\nshard_count = 2\nshard_ids = [-1]\n", "discord.shard_ids"),
        ("[discord]\nshard_count = 2\nshard_ids = [1, 1]\n", "discord.shard_ids"),
        ("[discord]\nshard_count = 2\nshard_ids = []\n", "discord.shard_ids"),
        ("[discord]\nshard_count = 2\nshard_ids = 1\n", "discord.shard_ids"),
        ('[discord]\nshard_count = 2\nshard_ids = ["1"]\n', "discord.shard_ids"),
        ("[discord]\nshard_count = 2\nshard_ids = [true]\n", "discord.shard_ids"),
        ('[database]\nurl = "sqlite:///"\n', "database.url"),
        ('[database]\nurl = "calbot.sqlite3"\n', "database.url"),
        ("[database]\nurl = 5\n", "database.url"),
        ('[defaults]\ntimezone = "Mars/Olympus_Mons"\n', "defaults.timezone"),
        ("[defaults]\ntimezone = 1\n", "defaults.timezone"),
        ('[defaults]\nreminders = ["p5w"]\n', "defaults.reminders"),
        ('[defaults]\nreminders = "pt15m"\n', "defaults.reminders"),
        ("[defaults]\nreminders = [15]\n", "defaults.reminders"),
        ('[defaults]\nchannels = ["pigeon"]\n', "defaults.channels"),
        ('[defaults]\nchannels = "public"\n', "defaults.channels"),
        ('[logging]\nlevel = "LOUD"\n', "logging.level"),
        ("[logging]\nlevel = 10\n", "logging.level"),
        ('[logging]\nformat = "xml"\n', "logging.format"),
        ('[reminder]\nlead = "pt15m"\n', "reminder"),  # unknown section
        ('discord = "token"\n', "discord"),  # a section that is not a table
        ('token = "top-level"\n', "token"),
    ],
)
@pytest.mark.parametrize("environ", [{}, {"DISCORD_TOKEN": TOKEN}], ids=["no-env", "env-token"])
def test_bad_values_name_their_key(tmp_path: Path, body: str, key: str, environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(str(write(tmp_path, body)), environ=environ)
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")
    assert "\n" not in str(caught.value)


def test_bad_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[discord]\ntoken = "unterminated\n')
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), environ={})
    assert caught.value.key == str(path)
    assert "not valid TOML" in caught.value.problem
    assert "line 2" in caught.value.problem


def test_describe_never_shows_the_token(tmp_path: Path) -> None:
    path = write(tmp_path, f'[discord]\ntoken = "{TOKEN}"\n')
    text = load_config(str(path), environ={}).describe()
    assert TOKEN not in text
    assert "very-secret" not in text
    assert 'token = "<set, hidden>"' in text
    assert 'token = "<NOT SET>"' in load_config(str(write(tmp_path, "")), environ={}).describe()


def test_the_token_is_not_in_the_configs_repr(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, "")), environ={"DISCORD_TOKEN": TOKEN})
    assert config.discord.token == TOKEN
    assert TOKEN not in repr(config) and TOKEN not in repr(config.discord)


def test_describe_shows_the_effective_settings(tmp_path: Path) -> None:
    path = write(tmp_path, '[defaults]\ntimezone = "asia/tokyo"\nreminders = ["p1d", "pt1h"]\n')
    text = load_config(str(path), environ={"DISCORD_TOKEN": TOKEN}).describe()
    assert 'timezone = "Asia/Tokyo"' in text
    assert 'reminders = ["pt1h", "p1d"]' in text
    assert str(path) in text


def test_describe_masks_a_database_password(config: Config) -> None:
    import dataclasses

    with_password = dataclasses.replace(config, database=DatabaseConfig(url="postgresql://calbot:hunter2@db/calbot"))
    text = with_password.describe()
    assert "hunter2" not in text
    assert "postgresql://calbot:***@db/calbot" in text


def test_the_shared_fixture_points_at_a_temp_sqlite_file(config: Config, tmp_path: Path) -> None:
    assert config.database.url == f"sqlite:///{tmp_path}/calbot.sqlite3"
    assert config.require_token() == "test-token"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://calbot:secret@db.example.org:5432/calbot",
        "postgres://calbot@localhost/calbot",
        "postgresql:///calbot?host=/var/run/postgresql",
        "postgresql://calbot:secret@db1:5432,db2:5432/calbot?target_session_attrs=read-write",
        "postgresql://calbot:p:w@[::1]:5432,db2/calbot",
        "sqlite:////srv/calbot/db.sqlite3",
    ],
)
def test_sqlite_and_postgresql_urls_are_accepted(tmp_path: Path, url: str) -> None:
    config = load_config(str(write(tmp_path, f'[database]\nurl = "{url}"\n')), environ={})
    assert config.database.url == url


def test_an_unsupported_url_is_refused_without_echoing_its_password(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "mysql://calbot:hunter2@db/calbot"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), environ={})
    assert caught.value.key == "database.url"
    assert "hunter2" not in str(caught.value)
    assert "mysql://calbot:***@db/calbot" in str(caught.value)
    assert "postgresql://" in caught.value.problem and "sqlite:///" in caught.value.problem


def test_pool_sizes_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "postgresql://db/calbot"\npool_min_size = 2\npool_max_size = 2\n')
    database = load_config(str(path), environ={}).database
    assert (database.pool_min_size, database.pool_max_size) == (2, 2)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://calbot:hunter2@db/calbot", "postgresql://calbot:***@db/calbot"),
        ("postgresql://calbot:hun@ter2@db/calbot", "postgresql://calbot:***@db/calbot"),
        ("postgres://:hunter2@db", "postgres://:***@db"),
        ("postgresql:///calbot?host=/run&password=hunter2", "postgresql:///calbot?host=/run&password=***"),
        ("postgresql://calbot@db/calbot?sslmode=require", "postgresql://calbot@db/calbot?sslmode=require"),
        ("sqlite:////srv/calbot/db.sqlite3", "sqlite:////srv/calbot/db.sqlite3"),
    ],
)
def test_redact_url_masks_only_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_database_password_is_not_in_the_configs_repr(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, '[database]\nurl = "postgresql://calbot:hunter2@db/calbot"\n')), {})
    assert config.database.url == "postgresql://calbot:hunter2@db/calbot"
    assert "hunter2" not in repr(config) and "hunter2" not in repr(config.database)
    assert "hunter2" not in config.describe()
    assert 'url = "postgresql://calbot:***@db/calbot"' in config.describe()


@pytest.mark.parametrize(
    ("body", "shards"),
    [
        ("", None),
        ("shard_count = 1\n", Shards(1, (0,))),
        ("shard_count = 4\n", Shards(4, (0, 1, 2, 3))),  # no shard_ids: this process runs them all
        ("shard_count = 4\nshard_ids = [3, 1]\n", Shards(4, (1, 3))),
        ("shard_count = 2\nshard_ids = [1]\n", Shards(2, (1,))),
    ],
)
def test_shards_from_the_file(tmp_path: Path, body: str, shards: Shards | None) -> None:
    config = load_config(str(write(tmp_path, f"[discord]\n{body}")), environ={})
    assert config.discord.shards == shards


def test_describe_shows_shards_and_pool_sizes(tmp_path: Path) -> None:
    unsharded = load_config(str(write(tmp_path, "")), environ={}).describe()
    assert "# shard_count: not set" in unsharded
    assert "pool_min_size = 1" in unsharded and "pool_max_size = 10" in unsharded
    every = load_config(str(write(tmp_path, "[discord]\nshard_count = 4\n")), environ={}).describe()
    assert "shard_count = 4" in every and "# shard_ids: not set" in every
    some = load_config(str(write(tmp_path, "[discord]\nshard_count = 4\nshard_ids = [2, 3]\n")), {}).describe()
    assert "shard_ids = [2, 3]" in some


def test_shards_and_the_database_url_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[discord]\nshard_count = 2\nshard_ids = [0]\n[database]\nurl = "sqlite:///x.db"\n')
    environ = {
        "CALBOT_SHARD_COUNT": "4",
        "CALBOT_SHARD_IDS": "1, 3",
        "CALBOT_DATABASE_URL": "postgresql://calbot:hunter2@db/calbot",
    }
    config = load_config(str(path), environ=environ)
    assert config.discord.shards == Shards(4, (1, 3))
    assert config.database.url == "postgresql://calbot:hunter2@db/calbot"
    assert load_config(str(path), environ={"CALBOT_SHARD_IDS": "1"}).discord.shards == Shards(2, (1,))
    assert load_config(str(path), environ={"CALBOT_SHARD_IDS": ""}).discord.shards == Shards(2, (0,))


@pytest.mark.parametrize(
    ("environ", "key", "variable"),
    [
        ({"CALBOT_SHARD_COUNT": "many"}, "discord.shard_count", "CALBOT_SHARD_COUNT"),
        ({"CALBOT_SHARD_COUNT": "-1"}, "discord.shard_count", "CALBOT_SHARD_COUNT"),
        ({"CALBOT_SHARD_IDS": "0,x"}, "discord.shard_ids", "CALBOT_SHARD_IDS"),
        ({"CALBOT_SHARD_COUNT": "2", "CALBOT_SHARD_IDS": "0 5"}, "discord.shard_ids", "CALBOT_SHARD_IDS"),
        ({"CALBOT_DATABASE_URL": "mysql://db/x"}, "database.url", "CALBOT_DATABASE_URL"),
    ],
)
def test_bad_environment_values_name_the_key_and_the_variable(
    tmp_path: Path, environ: dict[str, str], key: str, variable: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(str(write(tmp_path, "")), environ=environ)
    assert caught.value.key == key
    assert variable in caught.value.problem


def test_the_example_config_is_valid_and_names_every_key() -> None:
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    config = load_config(str(example), environ={})
    assert config.database.url == DEFAULT_DATABASE_URL
    text = example.read_text(encoding="utf-8")
    from bot.config import _SCHEMA

    for section, keys in _SCHEMA.items():
        assert f"[{section}]" in text
        for key in keys:  # set to its default, or shown commented out when it has none
            assert f"\n{key} = " in text or f"\n# {key} = " in text, f"{section}.{key}"


def test_reminders_keep_to_the_configured_share_of_discords_limit(tmp_path: Path) -> None:
    assert load_config(str(write(tmp_path, "")), environ={}).discord.requests_per_second == 48
    shared = load_config(str(write(tmp_path, "[discord]\nrequests_per_second = 24\n")), environ={})
    assert shared.discord.requests_per_second == 24
    with pytest.raises(ConfigError) as refused:
        load_config(str(write(tmp_path, "[discord]\nrequests_per_second = 0\n")), environ={})
    assert refused.value.key == "discord.requests_per_second"


# ---- [mail], [sms], [broadcast]


def test_mail_and_sms_secrets_come_from_the_environment_and_are_never_shown(tmp_path: Path) -> None:
    body = (
        '[mail]\nhost = "smtp.example.org"\nfrom_address = "calbot@Example.ORG"\npassword = "in-the-file"\n'
        '[sms]\naccount_id = "AC1"\nsender = "+15005550006"\n'
    )
    env = {"CALBOT_MAIL_PASSWORD": "mail-secret", "CALBOT_SMS_TOKEN": "sms-secret"}
    config = load_config(str(write(tmp_path, body)), environ=env)
    assert config.mail.password == "mail-secret" and config.sms.token == "sms-secret"
    assert config.mail.from_address == "calbot@example.org" and config.mail.enabled and config.sms.enabled
    for shown in (config.describe(), repr(config)):
        assert "mail-secret" not in shown and "sms-secret" not in shown and "in-the-file" not in shown
    assert 'password = "<set, hidden>"' in config.describe()


def test_channels_are_off_until_configured(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, "")), environ={})
    assert not config.mail.enabled and not config.sms.enabled
    assert config.broadcast.allow_private_targets is False and config.broadcast.failure_threshold == 10


@pytest.mark.parametrize(
    ("body", "key", "says"),
    [
        ('[mail]\nhost = "smtp.example.org"\n', "mail.from_address", "is not set"),
        ('[mail]\ntls = "ssl"\n', "mail.tls", "use one of starttls, tls, none"),
        ('[mail]\nfrom_address = "not an address"\n', "mail.from_address", "is not a mail address"),
        ('[sms]\napi_base_url = "ftp://x"\n', "sms.api_base_url", "is not a http or https URL"),
        ("[broadcast]\nallow_private_targets = 1\n", "broadcast.allow_private_targets", "expected true or false"),
        ("[broadcast]\nfailure_threshold = 0\n", "broadcast.failure_threshold", "between 1 and 1000"),
    ],
)
def test_bad_channel_settings_name_their_key(tmp_path: Path, body: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(str(write(tmp_path, body)), environ={})
    assert caught.value.key == key and says in caught.value.problem
