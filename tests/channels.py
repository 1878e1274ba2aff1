"""Real local servers for the channels beyond Discord, each on a thread of its own (so the bot's event loop,
SimCord's included, only ever sees real sockets): an SMTP server (aiosmtpd) that records what it receives,
and an HTTP server (aiohttp) that stands in for the Twilio Messages API and for webhook receivers, verifying
Standard Webhooks signatures with the `standardwebhooks` library."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import functools
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Self

from aiohttp import web
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def free_port() -> int:
    """A port nobody listens on now (aiosmtpd's Controller cannot be given port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(eq=False)
class Received:
    sender: str
    recipients: list[str]
    content: bytes

    @functools.cached_property
    def message(self) -> EmailMessage:
        """Parsed when read, not while the server takes it: a benchmark's server shares the process."""
        return email.message_from_bytes(self.content, policy=email.policy.default)


class SmtpRecorder:
    """Accepts mail on 127.0.0.1; `answers` queues SMTP replies (e.g. "451 try later") for the next DATAs."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: deque[str] = deque()
        self.refuse: dict[str, str] = {}  # recipient -> the reply every mail to it gets (after DATA)
        self.refuse_rcpt: dict[str, str] = {}  # recipient -> the reply to its RCPT TO
        self.connections = 0
        self._controller = Controller(self, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if refused := [self.refuse[r] for r in envelope.rcpt_tos if r in self.refuse]:
            return refused[0]
        if self.answers:
            return self.answers.popleft()
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    verified: object = None  # the payload, when the signature checked out


class LocalHttpServer:
    """An aiohttp server on 127.0.0.1, on a thread and event loop of its own; subclasses answer in `_handle`."""

    def __init__(self) -> None:
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


class HttpReceiver(LocalHttpServer):
    """An HTTP server on 127.0.0.1 recording every request. `statuses` queues answers for the next requests;
    `secrets` (path -> whsec_...) makes it verify Standard Webhooks signatures on those paths (a bad one: 401)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.statuses: deque[int] = deque()
        self.secrets: dict[str, str] = {}
        self.redirect_to: str | None = None
        self.files: dict[str, tuple[str, bytes]] = {}  # path -> (content type, body) served as they are

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        call = Call(request.path, dict(request.headers), body)
        if request.content_type == "application/x-www-form-urlencoded":
            call.form = dict(await request.post())
        secret = self.secrets.get(request.path)
        if secret is not None:
            try:
                call.verified = Webhook(secret).verify(body, dict(request.headers))
            except WebhookVerificationError:
                self.calls.append(call)
                return web.json_response({"error": "bad signature"}, status=401)
        self.calls.append(call)
        if request.path in self.files:
            kind, data = self.files[request.path]
            return web.Response(body=data, content_type=kind)
        if self.redirect_to is not None:
            raise web.HTTPFound(self.redirect_to)
        status = self.statuses.popleft() if self.statuses else 200
        if request.path.endswith("/Messages.json"):
            if status >= 400:
                refusal = {"code": 21211, "message": f"The 'To' number {call.form.get('To')} is not valid"}
                return web.json_response(refusal, status=status)
            return web.json_response({"sid": f"SM{len(self.calls):032d}", "status": "queued"}, status=201)
        return web.json_response({"ok": True}, status=status)

    def basic_auth(self, call: Call) -> tuple[str, str]:
        kind, _, encoded = call.headers.get("Authorization", "").partition(" ")
        assert kind == "Basic"
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user, password
