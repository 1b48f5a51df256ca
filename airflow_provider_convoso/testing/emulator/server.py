"""The emulator's server: knobs, faults, the request log, dispatch from path to answerer."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import json
import logging
import random
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_convoso.testing.emulator.agent_performance import _CACHED_ROWS, AgentPerformanceAnswers
from airflow_provider_convoso.testing.emulator.agent_productivity import ProductivityAnswers
from airflow_provider_convoso.testing.emulator.call_logs import CallLogAnswers, _Encoded
from airflow_provider_convoso.testing.emulator.contract import (
    AGENT_PERFORMANCE_FILTERS,
    AGENT_PERFORMANCE_PATH,
    ALL_PATHS,
    AUTH_ERROR_CODE,
    CALL_LOG_PATH,
    CAMPAIGNS_PATH,
    ERROR_SHAPES,
    FAULT_KINDS,
    HTML_ERROR,
    LEADS_PATH,
    LISTS_PATH,
    PRODUCTIVITY_PATH,
    SHAPES,
    STATUSES_PATH,
    USERS_PATH,
)
from airflow_provider_convoso.testing.emulator.leads import LeadAnswers
from airflow_provider_convoso.testing.emulator.lookups import LookupAnswers
from airflow_provider_convoso.testing.emulator.recordings import RECORDING_PATH
from airflow_provider_convoso.testing.emulator.world import _Knobs


@dataclass
class RequestRecord:
    """One request as the emulator saw it. The token itself is never stored."""

    method: str
    path: str
    content_type: str
    params: dict[str, str]
    token_in_body: bool
    token_in_query: bool
    user_agent: str
    started: float
    ended: float = 0.0
    status: int = 0
    fault: str | None = None
    rows: int = 0


def _rows_in(payload: Any) -> int:
    """How many records an answer carries, whatever its endpoint's envelope."""
    if isinstance(payload, list):
        return len(payload)
    data = payload.get("data")
    if isinstance(data, dict) and isinstance(data.get("results"), dict | list):
        return len(data["results"])
    if isinstance(data, dict) and isinstance(data.get("entries"), list):
        return len(data["entries"])
    return len(data) if isinstance(data, list | dict) else 0


def _is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1), judged as addresses."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _flatten(values: dict[str, list[str]]) -> dict[str, str]:
    return {key: items[-1] for key, items in values.items() if items}


class _Server(ThreadingHTTPServer):
    # Room for hundreds of simultaneous connects (a triggerer fan-out); the default of 5
    # drops SYNs and stalls clients for seconds.
    request_queue_size = 1024
    daemon_threads = True


class _Handler(BaseHTTPRequestHandler):
    owner: ConvosoEmulator
    protocol_version = "HTTP/1.1"
    server_version = "ConvosoEmulator/1"
    wbufsize = 64 * 1024  # headers and body leave in one write
    _answer_at = 0.0  # monotonic time the current answer is due
    _arrived = 0.0  # monotonic time the current request's first line was read

    def parse_request(self) -> bool:
        # Stamped before the headers are parsed: parsing is the server's own work, which
        # the latency includes (a request waits no longer on a busy emulator).
        self._arrived = time.monotonic()
        return super().parse_request()

    def setup(self) -> None:
        super().setup()
        # No Nagle: a keep-alive client would otherwise wait on delayed ACKs (~40 ms a request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        return

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _read(self) -> tuple[dict[str, str], str | None, bool, bool]:
        """Parameters as PHP's ``$_REQUEST`` has them: the query string, then a form body over it.

        PHP fills ``$_POST`` from form-encoded bodies only; any other body (JSON included) is
        not read unless the ``accept_json`` knob asks for the contract's behaviour.
        """
        split = urlsplit(self.path)
        query = _flatten(parse_qs(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body: dict[str, Any] = {}
        if raw and content_type == "application/json" and self.owner._knobs.accept_json:
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = None
            body = decoded if isinstance(decoded, dict) else {}
        elif raw and content_type == "application/x-www-form-urlencoded":
            body = _flatten(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))
        merged = {**query, **{k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}}
        token = merged.pop("auth_token", None)
        return merged, token, "auth_token" in body, "auth_token" in query

    def _handle(self) -> None:
        owner = self.owner
        params, token, in_body, in_query = self._read()
        record = RequestRecord(
            method=self.command,
            path=urlsplit(self.path).path,
            content_type=(self.headers.get("Content-Type") or "").split(";")[0],
            params={k: v for k, v in params.items() if k != "rlt"},  # a recording link's secret
            token_in_body=in_body,
            token_in_query=in_query,
            user_agent=self.headers.get("User-Agent", ""),
            started=self._arrived,
        )
        with owner._lock:
            owner._in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner._in_flight)
            owner.requests.append(record)
            knobs = owner._knobs
            fault = owner._next_fault(params) if record.path in ALL_PATHS else None
            latency = knobs.latency
        record.fault = fault
        self._answer_at = record.started + latency  # the emulator's own work is part of the latency
        try:
            self._respond(record, params, token, fault)
        finally:
            record.ended = time.monotonic()
            with owner._lock:
                owner._in_flight -= 1

    def _respond(self, record: RequestRecord, params: dict[str, str], token: str | None, fault: str | None) -> None:
        owner, knobs = self.owner, self.owner._knobs
        if record.path.startswith(RECORDING_PATH) and self.command == "GET":
            self._answer_at = record.started + knobs.recording_latency
            with owner._lock:
                status, content_type, body = owner.recording_answer(record.path, params)
            self._send(record, status, body, content_type)
            return
        if record.path not in ALL_PATHS:
            self._send(record, 404, HTML_ERROR.format(code=404, reason="Not Found").encode(), "text/html")
            return
        if fault == "timeout":
            owner._stopping.wait(knobs.timeout_delay)
        elif fault == "slow":
            owner._stopping.wait(knobs.slow_delay)
        elif fault == "reset":
            self._reset(record)
            return
        elif fault in ("429", "500", "502", "503", "504"):
            code = int(fault)
            reason = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}.get(
                code, "Service Unavailable" if code == 503 else "Gateway Timeout"
            )
            headers = {"Retry-After": knobs.retry_after} if code in (429, 503) else {}
            self._send(record, code, HTML_ERROR.format(code=code, reason=reason).encode(), "text/html", headers)
            return
        if record.path in knobs.denied_paths and token == owner.token:
            forbidden = {"success": False, "code": 403, "text": "Forbidden"}
            self._send(record, 403, json.dumps(forbidden).encode(), "application/json")
            return
        with owner._lock:
            payload = owner.answer_path(record.path, params, token)
        if isinstance(payload, _Encoded):  # a call-log or leads page, assembled from cached records
            body, record.rows, payload = payload.body, payload.rows, {"success": True}
        else:
            body = json.dumps(payload).encode()
            record.rows = _rows_in(payload)
        if knobs.not_ready_status != 200 and record.rows == 0 and token == owner.token:
            code = knobs.not_ready_status
            self._send(record, code, HTML_ERROR.format(code=code, reason="Not Ready").encode(), "text/html")
            return
        status = 200
        if isinstance(payload, dict) and payload.get("success") is False and token != owner.token:
            status = knobs.auth_status
        if fault == "truncated":
            self._send(record, status, body, "application/json", truncate=True)
            return
        self._send(record, status, body, "application/json")

    def _send(
        self,
        record: RequestRecord,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        truncate: bool = False,
    ) -> None:
        record.status = status
        remaining = self._answer_at - time.monotonic()
        if remaining > 0:
            self.owner._stopping.wait(remaining)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: max(1, len(body) // 2)] if truncate else body)
            self.wfile.flush()
            if truncate:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            self.close_connection = True

    def _reset(self, record: RequestRecord) -> None:
        record.status = 0
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()


def _split(values: Iterable[str] | None) -> Sequence[str]:
    return tuple(v for item in values or () for v in item.split(",") if v)


@contextlib.contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """The emulator in a process of its own (command-line ``args``); yields its base URL.

    For measurements: an in-process emulator shares the GIL with the code under test.
    """
    import subprocess

    with subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_convoso.testing.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    ) as server:  # closes its stdout pipe on the way out
        try:
            assert server.stdout is not None
            yield server.stdout.readline().strip()
        finally:
            server.terminate()
            server.wait(timeout=30)


class ConvosoEmulator(AgentPerformanceAnswers, CallLogAnswers, ProductivityAnswers, LookupAnswers, LeadAnswers):
    """A loopback HTTP server that behaves like Convoso's API, every endpoint this provider reads.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. Every knob can be
    changed while it runs with :meth:`configure`. ``requests`` is the request log.
    """

    def __init__(
        self,
        *,
        token: str = "emulator-token",
        seed: int = 7,
        agents: int = 12,
        today: dt.date | None = None,
        history_days: int = 730,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        allow_remote: bool = False,
        **knobs: Any,
    ) -> None:
        if not _is_loopback(host):
            if not allow_remote:
                raise ValueError(
                    f"the emulator listens on loopback only, got host={host!r} (allow_remote=True to override)"
                )
            logging.getLogger(__name__).warning("Convoso emulator listening on non-loopback host %r", host)
        self.token = token
        self.seed = seed
        self.today = today or dt.date.today()
        self.history_start = self.today - dt.timedelta(days=history_days)
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self._knobs = _Knobs()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._seen: dict[str, int] = {}
        self._data_requests: dict[str, int] = {}
        self._started_at = time.monotonic()
        self._change_requests: dict[str, int] = {}
        self._changing_since = time.monotonic()
        self._call_log_requests = 0
        self._calls_cache: dict[tuple[dt.date, str, float], list[tuple[str, int, int, int]]] = {}
        self._events_cache: dict[tuple[dt.date, str, float], list[dict[str, Any]]] = {}
        self._times_cache: dict[tuple[dt.date, str, float, str], list[str]] = {}
        self._encoded_calls: dict[tuple[dt.date, str, float, int], bytes] = {}
        self._lead_updates: dict[int, tuple[str, int]] = {}
        self._lead_clock = "0000-00-00 00:00:00"
        self._encoded_leads: dict[tuple[int, int], bytes] = {}
        # Records are a pure function of these arguments (see records() for when they are kept).
        self._records = functools.lru_cache(maxsize=_CACHED_ROWS // max(1, agents))(self._compute_records)
        self._in_flight = 0
        self.max_in_flight = 0
        self.requests: list[RequestRecord] = []
        self.agents = self._make_agents(agents)
        self.campaigns = sorted({c for a in self.agents for c in a.campaigns})
        self.lists = sorted({x for a in self.agents for x in a.lists})
        self.queues = sorted({q for a in self.agents for q in a.queues})
        self.statuses = sorted({s for a in self.agents for s in a.statuses})
        self._by_id = {agent.user_id: agent for agent in self.agents}
        self._known = {
            attr: frozenset().union(*(getattr(agent, attr) for agent in self.agents))
            for _, _, _, attr in AGENT_PERFORMANCE_FILTERS
        }
        self.configure(**knobs)

    def configure(self, **knobs: Any) -> ConvosoEmulator:
        """Change knobs while running.

        shape, error_shape, empty_data, auth_status, latency, fault_rate, fault_kinds,
        fault_seed (random faults are drawn from it per request), faults (a scripted list,
        ``None`` meaning a normal answer), retry_after, timeout_delay, slow_delay,
        data_after_requests, data_after_seconds, accept_json (read a JSON body as the
        contract's example does; the live service does not), not_ready_status (send an
        answer with no rows as this HTTP status instead, as a generic API that answers 404
        until a resource exists; for comparing with generic HTTP sensors, not Convoso),
        changing_requests / changing_seconds (the figures keep moving, as a day still being
        written does: they grow on each request with the same parameters until the Nth, and
        until T seconds after the knob was set; the same agents answer throughout),
        inconsistent_every (every Nth agent's record breaks the contract's relations: its
        total_time is 10 minutes longer than its parts, its talk_sec_pt 5 points off, and
        human_answered one more than calls leaves room for), limit_clamp (paged endpoints
        answer at most this many rows a page, whatever limit was asked, and echo it),
        user_key_mismatches (the first N users of users/search are keyed by a number other
        than their id, as in Convoso's example), users_require_filter (users/search without
        ``user`` answers 6005 "Missing users", as the help page's "required" suggests),
        timezone (the account's zone: call-log times are local to it, and a day has 23 or
        25 hours on a DST change), calls_per_agent (scales each agent's calls a day, for
        large call-log days; 1 keeps them equal to agent performance's ``calls``),
        shortfall_requests (the first N call-log requests report one row more in
        ``total_found`` than can be read), late_rows_until_request (every 50th call is
        missing from call-log answers until that many call-log requests were made),
        events_per_hour (agent-productivity READY/PAUSE events per logged-in hour),
        denied_paths (paths the token lacks the API section for: a valid token gets HTTP 403
        ``Forbidden`` there, as a token without that box ticked does).
        """
        with self._lock:
            for name, given in knobs.items():
                value = given
                if not hasattr(self._knobs, name):
                    raise TypeError(f"unknown emulator knob {name!r}")
                if name == "faults":
                    value = list(value)
                    unknown = {f for f in value if f is not None and f not in FAULT_KINDS}
                    if unknown:
                        raise ValueError(f"unknown fault kinds {sorted(unknown)}; expected {FAULT_KINDS}")
                if name == "fault_kinds":
                    value = tuple(value)
                if name == "denied_paths":
                    value = frozenset(value)
                    if not value <= ALL_PATHS:
                        raise ValueError(f"unknown paths {sorted(value - ALL_PATHS)}; expected {sorted(ALL_PATHS)}")
                if name == "shape" and value not in SHAPES:
                    raise ValueError(f"shape must be one of {SHAPES}, got {value!r}")
                if name == "error_shape" and value not in ERROR_SHAPES:
                    raise ValueError(f"error_shape must be one of {ERROR_SHAPES}, got {value!r}")
                setattr(self._knobs, name, value)
            if "data_after_requests" in knobs or "data_after_seconds" in knobs:
                self._data_requests.clear()
                self._started_at = time.monotonic()
            if "changing_requests" in knobs or "changing_seconds" in knobs:
                self._change_requests.clear()
                self._changing_since = time.monotonic()
            if "fault_seed" in knobs:
                self._seen.clear()
        return self

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to put in the connection's host (``/v1`` is added by the hook)."""
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self.port}"

    def connection_json(self, **extra: Any) -> str:
        """An ``AIRFLOW_CONN_...`` value pointing at this emulator."""
        return json.dumps({"conn_type": "convoso", "host": self.url, "password": self.token, "extra": extra})

    def start(self) -> ConvosoEmulator:
        emulator = self

        class Handler(_Handler):
            owner = emulator

        self._stopping.clear()
        self._server = _Server((self._host, self._port), Handler)
        if self._ssl_context is not None:
            self._server.socket = self._ssl_context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="convoso-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ConvosoEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_fault(self, params: dict[str, str]) -> str | None:
        """The scripted fault, else a random one drawn per (request parameters, occurrence).

        Keying the draw on the request rather than on arrival order keeps a seeded fault
        campaign identical however concurrent requests interleave.
        """
        knobs = self._knobs
        if knobs.faults:
            return knobs.faults.pop(0)
        if knobs.fault_rate <= 0:
            return None
        key = json.dumps(params, sort_keys=True)
        occurrence = self._seen.get(key, 0)
        self._seen[key] = occurrence + 1
        rng = random.Random(f"{knobs.fault_seed}:{key}:{occurrence}")
        return rng.choice(knobs.fault_kinds) if rng.random() < knobs.fault_rate else None

    def answer_path(
        self, path: str, params: dict[str, str], token: str | None
    ) -> dict[str, Any] | list[Any] | _Encoded:
        """The JSON any endpoint sends (no faults applied)."""
        if path == AGENT_PERFORMANCE_PATH:  # the contract's own error shapes, the token included
            return self.answer(params, token)
        if token != self.token:
            return self._code_error(AUTH_ERROR_CODE, "Auth token is invalid")
        answerer: Callable[[ConvosoEmulator, dict[str, str]], dict[str, Any] | _Encoded] = _ANSWERERS[path]
        return answerer(self, params)


#: Every endpoint but agent performance: path -> its answerer.
_ANSWERERS: dict[str, Callable[[ConvosoEmulator, dict[str, str]], Any]] = {
    CALL_LOG_PATH: ConvosoEmulator.call_logs_answer,
    PRODUCTIVITY_PATH: ConvosoEmulator.productivity_answer,
    LEADS_PATH: ConvosoEmulator.leads_answer,
    USERS_PATH: ConvosoEmulator.users_answer,
    CAMPAIGNS_PATH: ConvosoEmulator.campaigns_answer,
    LISTS_PATH: ConvosoEmulator.lists_answer,
    STATUSES_PATH: ConvosoEmulator.statuses_answer,
}
