"""The API's connection layer against a real server on 127.0.0.1, through raw sockets: aiohttp's own answers
(a request line or header over its limit, malformed HTTP) are JSON, a client that sends its headers too
slowly is cut off, a body that trickles gets a 408, and header bytes that are not UTF-8 get a 401.

Every loop here is bounded by a count or a deadline, so a server that misbehaves fails a test instead of
hanging it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

import bot.api.protocol as protocol
from bot.api import ApiServer
from bot.api.context import API_KEY
from tests.api.conftest import GUILD, NOW

HEADER_TIMEOUT = 0.5  # the server's, in these tests (10 s in production)
BODY_TIMEOUT = 0.5
LINGERING = 0.5
SLACK = 3.0  # what a busy test machine may add to a deadline


@dataclass
class Served:
    port: int
    token: str
    server: ApiServer


@pytest.fixture
async def served(store, config, monkeypatch) -> AsyncIterator[Served]:
    monkeypatch.setattr(protocol, "LINGERING_TIME", LINGERING)
    config = dataclasses.replace(config, api=dataclasses.replace(config.api, host="127.0.0.1", port=0))
    server = ApiServer(store, config, clock=lambda: NOW, header_timeout=HEADER_TIMEOUT)
    server.app[API_KEY].body_timeout = BODY_TIMEOUT
    await server.start()
    _token, text = await store.tokens.create(GUILD, "sockets", "write")
    try:
        yield Served(server.addresses[0][1], text, server)
    finally:
        await server.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        assert self.headers["content-type"].startswith("application/json"), self.headers
        return json.loads(self.body)


def parse(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status, headers, body[: int(headers.get("content-length", len(body)))])


async def read_all(reader: asyncio.StreamReader, limit: float) -> bytes:
    """Everything until the server closes the connection; fails after `limit` seconds."""
    data = b""
    async with asyncio.timeout(limit):
        while chunk := await reader.read(65536):
            data += chunk
    return data


async def exchange(port: int, raw: bytes, limit: float = 5.0) -> Answer:
    """Send `raw`, read until the server closes, parse the one answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return parse(await read_all(reader, limit))
    finally:
        writer.close()


def request(target: str = "/v2/events", *headers: bytes, method: bytes = b"GET", body: bytes = b"") -> bytes:
    lines = [method + b" " + target.encode() + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close", *headers]
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# ---- aiohttp's own answers are JSON


LONG = "a" * 9000
PARSER_CASES = {
    "request line over 8190 bytes": (request("/v2/events?q=" + LONG), 414, "8190"),
    "header over 8 KiB": (request("/v2/events", b"X-Long: " + LONG.encode()), 431, "8192"),
    "header name over 8 KiB": (request("/v2/events", LONG.encode() + b": x"), 431, "8192"),
    "more than 128 headers": (request("/v2/events", *(b"X-%d: a" % i for i in range(200))), 431, "128"),
    "not a method": (request(method=b"G@T"), 400, "method"),
    "TLS on the HTTP port": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 40, 400, "HTTPS"),
    "not HTTP/1.x": (b"GET /v2/events HTTP/9.9\r\nHost: x\r\n\r\n", 400, "HTTP/1.1"),
    "garbage": (b"\x00\x01\x02 nonsense\r\n\r\n", 400, ""),
    "NUL in a header": (request("/v2/events", b"X-A: a\x00b"), 400, "not valid HTTP/1.1"),
    "NUL in the Authorization header": (request("/v2/events", b"Authorization: Bearer a\x00b"), 400, "HTTP/1.1"),
    "a control character in a header": (request("/v2/events", b"X-A: a\x07b"), 400, "HTTP/1.1"),
    "a header without a colon": (request("/v2/events", b"NoColonHere"), 400, "HTTP/1.1"),
    "a Content-Length that is no number": (request("/v2/events", b"Content-Length: abc", method=b"POST"), 400, ""),
    "two Content-Lengths": (request("/v2/events", b"Content-Length: 1", b"Content-Length: 2", method=b"POST"), 400, ""),
    "a bad chunk": (
        b"POST /v2/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        400,
        "",
    ),
    "a NUL in the target": (b"GET /v2/ev\x00ents HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""),
    "a space in the target": (b"GET /v2/ev ents HTTP/1.1\r\nHost: x\r\n\r\n", 400, ""),
}


@pytest.mark.parametrize("case", PARSER_CASES, ids=list(PARSER_CASES))
async def test_what_aiohttp_refuses_is_answered_in_json(served, case):
    raw, status, word = PARSER_CASES[case]
    answer = await exchange(served.port, raw)
    assert answer.status == status, answer
    body = answer.json()
    assert set(body) == {"message"} and word in body["message"], body
    assert "aaaaaaaa" not in body["message"] and "\x00" not in body["message"]  # the client's bytes are not echoed


async def test_the_limits_are_the_ones_stated(served):
    """A request line of exactly 8190 bytes and 128 headers of 8 KiB each are still served (and the body of
    the answer is the route's own)."""
    target = "/v2/events?pad=" + "b" * (protocol.MAX_LINE - len("GET  HTTP/1.1") - len("/v2/events?pad="))
    line = f"GET {target} HTTP/1.1"
    assert len(line) == protocol.MAX_LINE
    answer = await exchange(served.port, request(target, f"Authorization: Bearer {served.token}".encode()))
    assert answer.status == 200, answer
    value = b"c" * (protocol.MAX_FIELD - len("X-Pad-00: "))
    headers = [b"X-Pad-%02d: %s" % (i, value) for i in range(protocol.MAX_HEADERS - 3)]
    auth = f"Authorization: Bearer {served.token}".encode()
    answer = await exchange(served.port, request("/v2/events", auth, *headers))
    assert answer.status == 200, answer


async def test_a_plain_aiohttp_server_in_the_same_process_is_untouched(served):
    """Nothing is patched: another aiohttp server (as the bot's own stand-ins and clients are) keeps aiohttp's
    own plain-text answers while the API runs."""
    app = web.Application()
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        answer = await exchange(runner.addresses[0][1], request("/" + LONG))
        assert answer.status == 400 and answer.headers["content-type"].startswith("text/plain")
    finally:
        await runner.cleanup()
    assert (await exchange(served.port, request("/" + LONG))).json()["message"]


# ---- the Authorization header's bytes


@pytest.mark.parametrize(
    "value",
    [b"Bearer \xff\xfe\xfd", b"\xc3\x28", b"Bearer cbt_1_\x80abc", b"Bearer caf\xc3\xa9", b"\xe2\x82"],
    ids=["latin-1 bytes", "a broken UTF-8 pair", "a token with a stray byte", "UTF-8 but not ASCII", "cut short"],
)
async def test_an_authorization_header_that_is_not_ascii_is_a_401(served, value):
    answer = await exchange(served.port, request("/v2/events", b"Authorization: " + value))
    assert answer.status == 401, answer
    assert answer.json() == {"message": "The API token is not valid (unknown, revoked or mistyped)."}
    assert answer.headers["www-authenticate"].startswith("Bearer")
    # and on a DisCal route, which repeats the message as Message
    body = b'{"guild_id": 1, "id": "1"}'
    raw = request("/v1/events/get", b"Authorization: " + value, method=b"POST", body=body)
    answer = await exchange(served.port, raw)
    assert answer.status == 401 and answer.json()["Message"] == answer.json()["message"]


# ---- the header deadline


async def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(served):
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    started = time.monotonic()
    try:
        assert await read_all(reader, HEADER_TIMEOUT + SLACK) == b""  # closed, nothing said: nothing was asked
    finally:
        writer.close()
    assert HEADER_TIMEOUT * 0.8 <= time.monotonic() - started < HEADER_TIMEOUT + SLACK


async def test_headers_that_stop_half_way_get_a_json_408_and_the_connection_closes(served):
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    started = time.monotonic()
    try:
        writer.write(b"GET /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthor")
        await writer.drain()
        answer = parse(await read_all(reader, HEADER_TIMEOUT + SLACK))
    finally:
        writer.close()
    assert answer.status == 408
    assert "did not arrive within 0.5 seconds" in answer.json()["message"]
    assert answer.headers["connection"].lower() == "close"
    assert time.monotonic() - started < HEADER_TIMEOUT + SLACK


async def test_sixty_slow_loris_connections_are_all_closed_in_time(served):
    """Each sends its headers a byte every 50 ms, which would take about 4 s; every one is closed once the
    header timeout has passed, and a normal client is served meanwhile."""
    head = request("/v2/events", f"Authorization: Bearer {served.token}".encode())
    closed_after: list[float] = []

    async def slow_loris() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        started = time.monotonic()
        try:
            for byte in head:  # bounded: the length of the head
                if reader.at_eof() or writer.is_closing():
                    break
                writer.write(bytes([byte]))
                try:
                    await writer.drain()
                    await asyncio.wait_for(reader.read(1), 0.05)  # at once when the server answers or closes
                    break
                except TimeoutError:
                    continue
                except ConnectionError:
                    break
            else:
                raise AssertionError("the whole head was sent before the server closed the connection")
            with contextlib.suppress(ConnectionError):  # a reset, if our last byte crossed the server's close
                await read_all(reader, SLACK)
        finally:
            closed_after.append(time.monotonic() - started)
            writer.close()

    tasks = [asyncio.create_task(slow_loris()) for _ in range(60)]
    await asyncio.sleep(HEADER_TIMEOUT / 2)
    ok = await exchange(served.port, head)  # a normal client, while they hold their connections
    assert ok.status == 200
    await asyncio.wait_for(asyncio.gather(*tasks), HEADER_TIMEOUT + 2 * SLACK)
    assert len(closed_after) == 60
    assert max(closed_after) < HEADER_TIMEOUT + SLACK, max(closed_after)
    assert min(closed_after) >= HEADER_TIMEOUT * 0.8


async def test_a_kept_alive_connection_may_idle_beyond_the_header_timeout(served):
    """The header deadline starts with a request's first byte: the wait between requests is aiohttp's
    keep-alive timeout, not this one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    auth = f"Authorization: Bearer {served.token}\r\n".encode()
    try:
        for _ in range(2):
            writer.write(b"GET /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + b"\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SLACK)
            answer = parse(head)
            assert answer.status == 200
            await asyncio.wait_for(reader.readexactly(int(answer.headers["content-length"])), SLACK)
            await asyncio.sleep(HEADER_TIMEOUT * 3)  # idle, kept alive
        # but the next request's head, once begun, has the header timeout to arrive
        started = time.monotonic()
        writer.write(b"GET /v2/events HTTP/1.1\r\nHo")
        await writer.drain()
        answer = parse(await read_all(reader, HEADER_TIMEOUT + SLACK))
        assert answer.status == 408 and time.monotonic() - started < HEADER_TIMEOUT + SLACK
    finally:
        writer.close()


async def test_a_request_body_after_complete_headers_is_not_under_the_header_deadline(served):
    """Headers in time, then a body that takes longer than the header timeout (but less than the body's):
    served."""
    served.server.app[API_KEY].body_timeout = HEADER_TIMEOUT * 6
    body = json.dumps({"name": "Slow", "starts": "2026-03-01T18:00:00Z"}).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    try:
        writer.write(
            b"POST /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {served.token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        await writer.drain()
        for part in (body[:10], body[10:20], body[20:]):
            await asyncio.sleep(HEADER_TIMEOUT * 0.9)
            writer.write(part)
            await writer.drain()
        answer = parse(await read_all(reader, SLACK))
    finally:
        writer.close()
    assert answer.status == 201, answer
    assert answer.json()["data"]["name"] == "Slow"


# ---- the body deadline


async def test_a_body_that_trickles_gets_a_json_408_and_the_connection_closes(served):
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    started = time.monotonic()
    answered_at = None
    data = b""
    try:
        writer.write(
            b"POST /v2/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {served.token}\r\nContent-Length: 1000\r\n\r\n{{".encode()
        )
        await writer.drain()
        deadline = started + BODY_TIMEOUT + LINGERING + 2 * SLACK
        while time.monotonic() < deadline:  # one byte every 50 ms: 1000 bytes would take 50 s
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.05)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                break  # closed
            if chunk:
                data += chunk
                answered_at = answered_at or time.monotonic()
            try:
                writer.write(b" ")
                await writer.drain()
            except ConnectionError:
                break
        else:
            raise AssertionError("the server kept reading the trickle")
    finally:
        writer.close()
    answer = parse(data)
    assert answer.status == 408
    assert answer.json() == {"message": "The body did not arrive within 0.5 seconds."}
    assert answer.headers["connection"].lower() == "close"
    assert BODY_TIMEOUT * 0.8 <= answered_at - started < BODY_TIMEOUT + SLACK
    assert time.monotonic() - started < BODY_TIMEOUT + LINGERING + 2 * SLACK
