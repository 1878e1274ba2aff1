"""Webhook targets are fenced (SSRF): with the default `[broadcast] allow_private_targets = false`, an address
that is or resolves to a private, loopback, link-local or otherwise non-public address is refused when added,
and a request whose name resolves inward later is refused at connection time too."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidField
from bot.reminders import Undeliverable
from bot.reminders.webhooks import is_public
from tests.channels import HttpReceiver


@pytest.fixture
def http():
    server = HttpReceiver()
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:8080/hook", "not public"),
        ("http://localhost/hook", "not public"),
        ("http://10.1.2.3/hook", "not public"),
        ("http://169.254.169.254/latest/meta-data", "not public"),  # cloud metadata, link-local
        ("http://[::1]/hook", "not public"),
        ("http://[::ffff:192.168.0.1]/hook", "not public"),
        ("http://0.0.0.0/hook", "not public"),
        ("ftp://example.org/hook", "http:// or https://"),
        ("http://user:secret@example.org/hook", "user name or password"),
        ("http://no-such-host.invalid/hook", "cannot be resolved"),
    ],
)
async def test_private_and_malformed_targets_are_refused(world, url, says):
    res = await world.admin.slash(world.general, "settings webhooks add", url=url)
    world.refused(res, InvalidField, says)
    assert await world.bot.store.webhooks.list(world.guild.id) == []


async def test_a_stored_target_that_resolves_inward_is_refused_when_sending(world, http):
    # As if the name had resolved to a public address when added and to 127.0.0.1 since (DNS rebinding).
    hook = await world.bot.store.webhooks.add(world.guild.id, http.url("/hook"), None, created_by=None)
    by_name = await world.bot.store.webhooks.add(
        world.guild.id, f"http://localhost:{http.port}/hook", None, created_by=None
    )
    for stored in (hook, by_name):
        with pytest.raises(Undeliverable, match="not public"):
            await world.bot.webhooks.post(stored, "test", {"type": "webhook.test"})
    assert http.calls == []


@pytest.mark.parametrize(
    ("address", "public"),
    [("93.184.215.14", True), ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True), ("100.64.0.1", False),
     ("192.0.2.1", False), ("fc00::1", False), ("fe80::1", False), ("224.0.0.1", False), ("::", False)],
)  # fmt: skip
def test_is_public(address, public):
    assert is_public(address) is public
