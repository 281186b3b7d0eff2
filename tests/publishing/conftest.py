"""A real HTTP receiver on 127.0.0.1 for webhook tests, and an owner's endpoint."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from governance.publishing.services import create_endpoint
from plugins.webhooks import signature
from tests.fixtures.servers import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next code of ``codes`` (then 200), verifying the
    signature with ``secret`` against its own clock, as a real receiver would."""

    port: int
    codes: list[int] = field(default_factory=list)
    secret: str = ""
    received: list[Received] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/assay"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received(dict(self.headers.items()), body))
                receiver.verified.append(signature.verify(
                    receiver.secret, self.headers.get(signature.HEADER, ""), body,
                    now=int(time.time())))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def loopback(settings: Any) -> None:
    settings.ASSAY_WEBHOOK_ALLOW_LOOPBACK = True
    settings.ASSAY_WEBHOOK_TIMEOUT_SECONDS = 3


@pytest.fixture
def receiver(loopback: None) -> Any:
    """A running receiver on a free loopback port."""
    rec = Receiver(port=free_port())
    rec.start()
    yield rec
    rec.stop()


@pytest.fixture
def endpoint(users: dict[str, Any], project: Any, receiver: Receiver) -> Any:
    """The owner's endpoint pointing at the receiver (which knows its secret)."""
    row, secret = create_endpoint(users["owner"], project, name="Website CMS",
                                  url=receiver.url)
    receiver.secret = secret
    return row
