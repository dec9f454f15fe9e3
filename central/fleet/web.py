"""The monitor's web server (standard library ThreadingHTTPServer): page, JSON API, live stream.

Routes
- ``GET /`` the page; ``GET /static/<file>`` its script and style (a fixed list, no paths).
- ``GET /api/fleet?since=REV`` terminals changed after REV (all when absent) and counts.
- ``GET /api/terminals/<id>`` one terminal.
- ``GET /api/terminals/<id>/commands/<command_id>`` one recent command with its result.
- ``GET /api/stream`` Server-Sent Events: the same deltas, pushed; resumes from Last-Event-ID.
- ``GET /api/health`` broker connection and totals (for probes).
- ``POST /api/terminals/<id>/commands`` body ``{"name": "ping", "args": {}}`` → 202 + command.
- ``GET /api/desk`` staff alerts (open first) and journeys per terminal and service.
- ``POST /api/alerts/<alert_id>/ack`` body ``{"by": "operator"}`` → 200 + the alert, acked.

The standard library is enough for one operator page with a few viewers and keeps the central
free of a web framework; each connection gets its own thread (daemon: a stuck browser never blocks
shutdown). No authentication here: bind to loopback and put a TLS reverse proxy with operator
login in front in production. Cross-site writes are refused (JSON content type + Origin check).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from central.fleet.desk import StaffDesk
from central.fleet.errors import CommandRefusedError, FleetError, PublishError
from central.fleet.state import FleetState

__all__ = ["CommandSender", "FleetWebServer"]

logger = logging.getLogger("central.fleet.web")

CommandSender = Callable[[str, str, dict[str, Any]], dict[str, Any]]
"""(terminal_id, command name, args) → the command record as JSON; raises FleetError."""

STATIC = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
# Scripts and styles only from this server, no inline code, no framing: a terminal-provided
# string that slipped through unescaped still could not run.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
MAX_BODY = 16 * 1024
_TERMINAL_PATH = re.compile(r"^/api/terminals/([A-Za-z0-9_-]{1,64})(/commands)?$")
_ACK_PATH = re.compile(r"^/api/alerts/([A-Za-z0-9_-]{8,64})/ack$")
_COMMAND_PATH = re.compile(r"^/api/terminals/([A-Za-z0-9_-]{1,64})/commands/([A-Za-z0-9-]{1,64})$")


def _load_static() -> dict[str, bytes]:
    root = resources.files("central.fleet") / "static"
    return {name: (root / name).read_bytes() for name in STATIC}


class FleetWebServer:
    """Serves the page and the API on its own thread; `start()` binds, `stop()` closes.

    `http_port` 0 binds any free port; `url` tells which. `push_interval_s` is how often a live
    stream looks for changes, `heartbeat_s` how often it sends a keep-alive comment.
    """

    def __init__(
        self,
        host: str,
        port: int,
        state: FleetState,
        send_command: CommandSender,
        broker_connected: Callable[[], bool],
        *,
        push_interval_s: float = 0.5,
        heartbeat_s: float = 15.0,
        desk: StaffDesk | None = None,
    ) -> None:
        self._state = state
        self._desk = desk
        self._send = send_command
        self._broker_connected = broker_connected
        self._push_interval = push_interval_s
        self._heartbeat = heartbeat_s
        self._static = _load_static()
        self._stopping = threading.Event()
        # Event ids are "<instance>-<rev>": a browser resuming against a restarted monitor (whose
        # revisions started again from 0) must get a full picture, not a delta of the new one.
        self._instance = uuid.uuid4().hex[:8]
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fleet-web", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; open live streams end within one push interval. Idempotent."""
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    # ---- request handling (one thread per connection) -------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        web = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "ssk-fleet"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("%s " + format, self.client_address[0], *args)

            def do_GET(self) -> None:
                web._guarded(web._get, self)

            def do_POST(self) -> None:
                web._guarded(web._post, self)

        return Handler

    def _guarded(
        self, route: Callable[[BaseHTTPRequestHandler], None], h: BaseHTTPRequestHandler
    ) -> None:
        """Run a route; a bug answers 500 and is logged, never kills the server's thread."""
        try:
            route(h)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            logger.exception("%s %s failed", h.command, h.path[:200])
            with contextlib.suppress(OSError):
                self._reply_json(h, HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal"})

    def _get(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        path, query = url.path, parse_qs(url.query)
        if path in ("/", "/index.html"):
            self._reply_static(h, "index.html")
        elif path.startswith("/static/") and path[len("/static/") :] in STATIC:
            self._reply_static(h, path[len("/static/") :])
        elif path == "/favicon.ico":
            h.send_response(HTTPStatus.NO_CONTENT)  # no icon; not an error in the console
            h.end_headers()
        elif path == "/api/fleet":
            body = self._state.delta(_int(query.get("since", ["0"])[0]))
            body["broker"] = self._broker_connected()
            self._reply_json(h, HTTPStatus.OK, body)
        elif path == "/api/health":
            health = {
                "broker": self._broker_connected(),
                "counts": self._state.counts(),
                "malformed_total": self._state.malformed_total,
                "messages_applied": self._state.messages_applied,
            }
            self._reply_json(h, HTTPStatus.OK, health)
        elif path == "/api/desk" and self._desk is not None:
            self._reply_json(h, HTTPStatus.OK, self._desk.snapshot())
        elif path == "/api/stream":
            self._stream(h, self._resume_from(h.headers.get("Last-Event-ID")))
        elif (m := _TERMINAL_PATH.match(path)) and not m.group(2):
            record = self._state.get(m.group(1))
            if record is None:
                self._reply_json(h, HTTPStatus.NOT_FOUND, {"error": "unknown terminal"})
            else:
                self._reply_json(h, HTTPStatus.OK, record)
        elif m := _COMMAND_PATH.match(path):
            command = self._state.command(m.group(1), m.group(2))
            if command is None:
                self._reply_json(h, HTTPStatus.NOT_FOUND, {"error": "unknown command"})
            else:
                self._reply_json(h, HTTPStatus.OK, command)
        else:
            self._reply_json(h, HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        path = urlsplit(h.path).path
        ack = _ACK_PATH.match(path)
        m = _TERMINAL_PATH.match(path)
        if not ack and (not m or not m.group(2)):
            self._reply_json(h, HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        # A cross-site page can POST a form but cannot send application/json without CORS, and
        # browsers always send Origin on fetch POSTs: both checks together stop CSRF.
        # Behind a TLS reverse proxy the scheme differs and the proxy may pass the public host
        # in X-Forwarded-Host, so compare host:port only.
        origin = h.headers.get("Origin")
        hosts = {h.headers.get("Host"), h.headers.get("X-Forwarded-Host")} - {None}
        if origin is not None and urlsplit(origin).netloc not in hosts:
            self._reply_json(h, HTTPStatus.FORBIDDEN, {"error": "cross-origin request"})
            return
        if (h.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            self._reply_json(h, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send JSON"})
            return
        length = _int(h.headers.get("Content-Length") or "0")
        if length <= 0 or length > MAX_BODY:
            self._reply_json(h, HTTPStatus.BAD_REQUEST, {"error": "body missing or too large"})
            return
        if ack:
            self._ack(h, ack.group(1), h.rfile.read(length))
            return
        assert m is not None
        try:
            body = json.loads(h.rfile.read(length))
            name = body["name"]
            args = body.get("args") or {}
            if not isinstance(name, str) or not isinstance(args, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError, AttributeError):
            self._reply_json(h, HTTPStatus.BAD_REQUEST, {"error": "expected {name, args}"})
            return
        try:
            record = self._send(m.group(1), name, args)
        except CommandRefusedError as e:
            status = HTTPStatus.NOT_FOUND if "unknown terminal" in e.message else 400
            self._reply_json(h, status, {"error": e.message, "code": e.code})
        except PublishError as e:
            self._reply_json(
                h, HTTPStatus.SERVICE_UNAVAILABLE, {"error": e.message, "code": e.code}
            )
        except FleetError as e:
            self._reply_json(h, HTTPStatus.INTERNAL_SERVER_ERROR, {"error": e.message})
        else:
            self._reply_json(h, HTTPStatus.ACCEPTED, record)

    def _ack(self, h: BaseHTTPRequestHandler, alert_id: str, raw: bytes) -> None:
        """Acknowledge a staff alert; `by` (who, free text, clipped) is recorded with it."""
        try:
            body = json.loads(raw)
            by = body.get("by", "") if isinstance(body, dict) else None
            if not isinstance(by, str):
                raise TypeError
        except (ValueError, TypeError):
            self._reply_json(h, HTTPStatus.BAD_REQUEST, {"error": "expected {by}"})
            return
        alert = None if self._desk is None else self._desk.acknowledge(alert_id, by.strip()[:40])
        if alert is None:
            self._reply_json(h, HTTPStatus.NOT_FOUND, {"error": "unknown alert"})
        else:
            self._reply_json(h, HTTPStatus.OK, alert)

    def _stream(self, h: BaseHTTPRequestHandler, since: int) -> None:
        h.send_response(HTTPStatus.OK)
        h.send_header("Content-Type", "text/event-stream; charset=utf-8")
        h.send_header("Cache-Control", "no-store")
        h.send_header("X-Accel-Buffering", "no")  # a reverse proxy must not buffer the stream
        h.end_headers()
        last_broker: bool | None = None
        first = True
        idle = 0.0
        desk_rev = -1
        try:
            while not self._stopping.is_set():
                d = self._state.delta(since)
                broker = self._broker_connected()
                desk_now = -1 if self._desk is None else self._desk.revision
                if d["terminals"] or first or broker != last_broker or desk_now != desk_rev:
                    d["broker"] = broker
                    if self._desk is not None and desk_now != desk_rev:
                        d["desk"] = self._desk.snapshot()
                        desk_rev = d["desk"]["rev"]
                    data = json.dumps(d, separators=(",", ":"))
                    event_id = f"{self._instance}-{d['rev']}"
                    h.wfile.write(f"id: {event_id}\nevent: fleet\ndata: {data}\n\n".encode())
                    h.wfile.flush()
                    since, last_broker, idle, first = d["rev"], broker, 0.0, False
                elif idle >= self._heartbeat:
                    h.wfile.write(b": keep-alive\n\n")
                    h.wfile.flush()
                    idle = 0.0
                self._stopping.wait(self._push_interval)
                idle += self._push_interval
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the browser went away; EventSource reconnects with Last-Event-ID if it wants

    def _resume_from(self, last_event_id: str | None) -> int:
        """The revision to resume from: 0 (full picture) unless the id is one of ours."""
        instance, _, rev = (last_event_id or "").partition("-")
        return _int(rev) if instance == self._instance else 0

    def _reply_static(self, h: BaseHTTPRequestHandler, name: str) -> None:
        body = self._static[name]
        h.send_response(HTTPStatus.OK)
        h.send_header("Content-Type", STATIC[name])
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Content-Security-Policy", CSP)
        h.send_header("X-Content-Type-Options", "nosniff")
        h.send_header("Referrer-Policy", "no-referrer")
        h.send_header("Cache-Control", "no-cache")
        h.end_headers()
        h.wfile.write(body)

    def _reply_json(self, h: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Cache-Control", "no-store")
        h.send_header("X-Content-Type-Options", "nosniff")
        h.end_headers()
        h.wfile.write(data)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
