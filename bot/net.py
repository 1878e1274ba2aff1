"""The fence of every outbound request to an address a user typed (SSRF): webhooks (bot/reminders/webhooks.py)
and subscribed feeds (bot/reminders/feeds.py). Every address a name resolves to must be public (no private,
loopback, link-local, multicast or reserved one), checked by the resolver of each connection, so a name that
resolves inward later (DNS rebinding) is refused too; an address written in the URL is checked before the
request, since aiohttp connects to it without asking the resolver."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from bot.domain.errors import InvalidField

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def allowed(address: str, trusted: Iterable[Network] = ()) -> bool:
    """Public, or inside one of the `trusted` networks an operator listed (a Nextcloud on the LAN)."""
    ip = ipaddress.ip_address(address)
    return is_public(address) or any(ip in network for network in trusted)


def literal_is_public(url: str, trusted: Iterable[Network] = ()) -> bool:
    """False for a URL whose host is a non-public IP address (outside `trusted`); a name is left to the resolver."""
    host = urlsplit(url).hostname or ""
    try:
        return allowed(host, trusted)
    except ValueError:
        return True


class PrivateTarget(OSError):
    """A name resolved to an address calbot does not call."""


class PublicOnlyResolver(AbstractResolver):
    """aiohttp's resolver, refusing a name any of whose addresses is not public (nor in `trusted`)."""

    def __init__(self, trusted: Iterable[Network] = ()) -> None:
        self._inner = DefaultResolver()
        self._trusted = tuple(trusted)

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        found: list[ResolveResult] = await self._inner.resolve(host, port, family)
        if not found or not all(allowed(r["host"], self._trusted) for r in found):
            raise PrivateTarget(f"{host} resolves to an address that is not public; calbot does not call it")
        return found

    async def close(self) -> None:
        await self._inner.close()


def check_literal(url: str, trusted: Iterable[Network] = (), field: str = "url") -> None:
    """Refuse (InvalidField) a URL whose host is an IP address that is not public (nor in `trusted`); a name is
    checked when it is resolved, at each connection."""
    if not literal_is_public(url, trusted):
        raise InvalidField(field, f"{urlsplit(url).hostname} is an address that is not public; calbot does not call it")


async def check_host(url: str, trusted: Iterable[Network] = (), field: str = "url") -> None:
    """Refuse (InvalidField) a URL whose host is, or resolves to, an address that is not public (nor in
    `trusted`), or does not resolve: what is checked when a user gives an address, before it is stored."""
    host = urlsplit(url).hostname or ""
    resolver = PublicOnlyResolver(trusted)
    try:
        await resolver.resolve(host, 0, socket.AF_UNSPEC)
    except PrivateTarget as error:
        raise InvalidField(field, str(error)) from None
    except OSError:
        raise InvalidField(field, f"{host} cannot be resolved") from None
    finally:
        await resolver.close()
