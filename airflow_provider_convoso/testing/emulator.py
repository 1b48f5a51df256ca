"""A Convoso Agent Performance API emulator: a real HTTP server on loopback.

It follows the contract and what the live service does beyond it. It reads a request as
the PHP service does: form bodies and the query string (a JSON body is not read, so its
token is never seen; ``accept_json=True`` restores the contract's JSON example); three
success shapes (numbers as strings in the keyed one); both error shapes; the four
date-range cases; and switchable faults (429 with ``Retry-After``, HTML 5xx pages,
slow answers and timeouts, connection resets, truncated bodies), latency, data that
appears only after N requests or T seconds, figures that keep changing for a while, and
records that break the contract's relations. Data is synthetic and deterministic per seed.

Run it from the shell with ``python -m airflow_provider_convoso.testing.emulator --port N``.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import functools
import ipaddress
import json
import logging
import random
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ENDPOINT = "/v1/agent-performance/search"
CALL_LOG_ENDPOINT = "/v1/log/retrieve"
PRODUCTIVITY_ENDPOINT = "/v1/agent-productivity/search"
#: Agent states as different sources spell them (compared case-insensitively).
_STATES = (("LOGIN", "1", "Login"), ("READY", "2", "Ready"), ("Pause", "1217", "Lunch"), ("LogOut", "3", "Logout"))
#: The lookup endpoints, path -> the emulator method that answers it.
LOOKUP_ENDPOINTS = {
    "/v1/users/search": "users_answer",
    "/v1/campaigns/search": "campaigns_answer",
    "/v1/lists/search": "lists_answer",
    "/v1/status/search": "statuses_answer",
}
_STATUS_NAMES = {
    "A": "Answering Machine",
    "NI": "Not Interested",
    "NC": "No Contact",
    "B": "Busy",
    "DNC": "Do Not Call",
    "CALLBK": "Call Back",
    "1": "Sale",
    "2": "Follow Up",
}
FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "504", "timeout", "reset", "truncated", "slow")
SHAPES = ("list", "data", "keyed")
ERROR_SHAPES = ("contract", "code_text")

_FIRST = ["Jane", "John", "Maria", "Wei", "Aisha", "Carlos", "Olga", "Kenji", "Fatima", "Liam", "Priya", "Noah"]
_LAST = ["Smith", "Doe", "Garcia", "Chen", "Khan", "Silva", "Ivanova", "Sato", "Ali", "Murphy", "Patel", "Brown"]
_CALL_TYPES = ["outbound", "outbound", "inbound", "blended", ""]
_FILTERS: tuple[tuple[str, int, str, str], ...] = (
    # parameter, error code, contract message, Agent attribute
    ("campaign_ids", 6026, "Invalid campaign ID", "campaigns"),
    ("queue_ids", 6041, "Invalid queue ID", "queues"),
    ("list_ids", 6042, "Invalid list ID", "lists"),
    ("user_ids", 6006, "Invalid user ID", "user_ids"),
    ("status_ids", 6050, "Invalid status ID", "statuses"),
)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CACHED_ROWS = 4096  # records the emulator keeps computed (none for more agents than this)
_HTML = "<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1><hr>nginx</body></html>"


@dataclass(frozen=True)
class Agent:
    user_id: str
    name: str
    call_type: str
    campaigns: frozenset[str]
    lists: frozenset[str]
    queues: frozenset[str]
    statuses: frozenset[str]

    @property
    def user_ids(self) -> frozenset[str]:
        return frozenset({self.user_id})


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


@dataclass
class _Knobs:
    shape: str = "list"
    error_shape: str = "contract"
    empty_data: str = "list"  # how empty "data" is sent: list -> [], object -> {}, null -> null
    auth_status: int = 200
    latency: float = 0.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    faults: list[str | None] = field(default_factory=list)
    retry_after: str = "1"
    timeout_delay: float = 5.0
    slow_delay: float = 0.2
    data_after_requests: int = 0
    data_after_seconds: float = 0.0
    fault_seed: int = 0
    accept_json: bool = False
    not_ready_status: int = 200
    changing_requests: int = 0
    changing_seconds: float = 0.0
    inconsistent_every: int = 0
    limit_clamp: int = 0
    user_key_mismatches: int = 0
    users_require_filter: bool = False
    timezone: str = "UTC"
    calls_per_agent: float = 1.0
    shortfall_requests: int = 0
    late_rows_until_request: int = 0
    events_per_hour: float = 4.0


class ConvosoEmulator:
    """A loopback HTTP server that behaves like Convoso's agent-performance endpoint.

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
            attr: frozenset().union(*(getattr(agent, attr) for agent in self.agents)) for _, _, _, attr in _FILTERS
        }
        self.configure(**knobs)

    # -- set-up ------------------------------------------------------------------------

    def _make_agents(self, count: int) -> list[Agent]:
        rng = random.Random(f"agents:{self.seed}")
        campaigns = ["111", "222", "333", "444"]
        lists = [str(1001 + i) for i in range(6)]
        queues = [str(501 + i) for i in range(4)]
        statuses = ["A", "NI", "NC", "B", "DNC", "CALLBK", "1", "2"]
        agents = []
        for index in range(count):
            agents.append(
                Agent(
                    user_id=str(10001 + index),
                    name=f"{_FIRST[index % len(_FIRST)]} {_LAST[(index * 7 + index // len(_FIRST)) % len(_LAST)]}",
                    call_type=rng.choice(_CALL_TYPES),
                    campaigns=frozenset(rng.sample(campaigns, rng.randint(1, 2))),
                    lists=frozenset(rng.sample(lists, rng.randint(1, 3))),
                    queues=frozenset(rng.sample(queues, 1)),
                    statuses=frozenset(rng.sample(statuses, rng.randint(2, 5))),
                )
            )
        return agents

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
        events_per_hour (agent-productivity READY/PAUSE events per logged-in hour).
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

    # -- lifecycle ---------------------------------------------------------------------

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

    # -- behaviour ---------------------------------------------------------------------

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

    def _data_ready(self, params: dict[str, str]) -> bool:
        """Data for a query shows up only after ``data_after_requests`` earlier requests with
        the same parameters, and ``data_after_seconds`` after the knob was set."""
        knobs = self._knobs
        key = json.dumps(params, sort_keys=True)
        self._data_requests[key] = seen = self._data_requests.get(key, 0) + 1
        if seen <= knobs.data_after_requests:
            return False
        return time.monotonic() - self._started_at >= knobs.data_after_seconds

    def _progress(self, params: dict[str, str]) -> float:
        """How far the figures have come, 1.0 once they stop changing (see ``changing_*``)."""
        knobs = self._knobs
        key = json.dumps(params, sort_keys=True)
        self._change_requests[key] = seen = self._change_requests.get(key, 0) + 1
        progress = 1.0
        if knobs.changing_requests > 0:
            progress = min(progress, seen / knobs.changing_requests)
        if knobs.changing_seconds > 0:
            progress = min(progress, (time.monotonic() - self._changing_since) / knobs.changing_seconds)
        return progress

    def _error(self, code: int | None, message: str, text: str | None = None) -> dict[str, Any]:
        if self._knobs.error_shape == "code_text" and code is not None:
            return {"success": False, "code": code, "text": text or message}
        body: dict[str, Any] = {"success": False}
        if code is not None and code != 5001:
            body["error_code"] = code
        body["error"] = message
        return body

    def _date_range(self, params: dict[str, str]) -> tuple[dt.date, dt.date] | None:
        start = dt.date.fromisoformat(params["date_start"]) if "date_start" in params else None
        end = dt.date.fromisoformat(params["date_end"]) if "date_end" in params else None
        if start is None and end is None:
            return self.today, self.today
        if end is None:
            end = self.today
        if start is None:
            start = self.history_start
        return (max(start, self.history_start), min(end, self.today)) if start <= end else None

    def day_metrics(self, agent: Agent, day: dt.date) -> dict[str, int] | None:
        """One agent's raw figures for one day, or ``None`` on a day off. Deterministic."""
        rng = random.Random(f"{self.seed}:{agent.user_id}:{day.toordinal()}")
        if rng.random() < 0.1:
            return None
        total = rng.randint(4 * 3600, 9 * 3600)
        talk = int(total * rng.uniform(0.46, 0.72))
        wrap = int(total * rng.uniform(0.04, 0.16))
        pause = int(total * rng.uniform(0.04, 0.12))
        wait = max(0, total - talk - wrap - pause)
        calls = max(1, int(total / 3600 * rng.uniform(5.5, 12.5)))
        human = int(calls * rng.uniform(0.57, 0.83))
        am = int(calls * rng.uniform(0.0, 0.2))
        am = min(am, calls - human)
        return {
            "total": total,
            "talk": talk,
            "wait": wait,
            "pause": pause,
            "wrap": wrap,
            "calls": calls,
            "human": human,
            "am": am,
            "others": calls - human - am,
        }

    def records(self, params: dict[str, str], progress: float = 1.0) -> list[dict[str, Any]]:
        """The records the endpoint returns for validated ``params``, in user-id order.

        ``progress`` below 1 scales each day's figures down (to half at 0), keeping every
        relation between them: a day still being written.
        """
        span = self._date_range(params)
        if span is None:
            return []
        wanted = tuple((name, params[name]) for name, _, _, _ in _FILTERS if name in params)
        # With a latency, an answer is due a fixed time after its request, its computing
        # included; keeping computed records stops one answer's computing from holding back
        # another due at the same moment (one GIL serves them all). Without a latency,
        # computing each answer is the emulator's service time, and stays so.
        compute = self._records if self._knobs.latency > 0 else self._compute_records
        return [dict(record) for record in compute(span, wanted, progress, self._knobs.inconsistent_every)]

    def _compute_records(
        self, span: tuple[dt.date, dt.date], filters: tuple[tuple[str, str], ...], progress: float, every: int
    ) -> tuple[dict[str, Any], ...]:
        """:meth:`records`, computed (the same arguments always give the same records)."""
        start, end = span
        wanted = {name: set(value.split(",")) for name, value in filters}
        out = []
        candidates = (
            [self._by_id[uid] for uid in sorted(wanted["user_ids"]) if uid in self._by_id]
            if "user_ids" in wanted
            else self.agents
        )
        for agent in candidates:
            if any(not (getattr(agent, attr) & wanted[name]) for name, _, _, attr in _FILTERS if name in wanted):
                continue
            sums: dict[str, int] = {}
            day = start
            while day <= end:
                daily = self.day_metrics(agent, day)
                if daily:
                    if progress < 1.0:
                        daily = _partial(daily, 0.5 + 0.5 * max(0.0, progress))
                    for key, value in daily.items():
                        sums[key] = sums.get(key, 0) + value
                day += dt.timedelta(days=1)
            if sums:
                record = _record(agent, sums)
                if every > 0 and (int(agent.user_id) - 10001) % every == 0:
                    _break_relations(record, sums)
                out.append(record)
        return tuple(out)

    def answer(self, params: dict[str, str], token: str | None) -> dict[str, Any] | list[Any]:
        """The JSON the endpoint sends for these parameters (no faults applied)."""
        if token != self.token:
            return self._error(5001, "Invalid authentication token", "Auth token is invalid")
        for name in ("date_start", "date_end"):
            if name in params:
                try:
                    if not _DATE_RE.fullmatch(params[name]):
                        raise ValueError
                    dt.date.fromisoformat(params[name])
                except ValueError:
                    return self._error(None, "Invalid date format. Use YYYY-MM-DD")
        for name, code, message, attr in _FILTERS:
            if name in params and any(part not in self._known[attr] for part in params[name].split(",")):
                return self._error(code, message)
        rows = self.records(params, self._progress(params)) if self._data_ready(params) else []
        return self._shape(rows)

    # -- lookup tables ------------------------------------------------------------------

    def _code_error(self, code: int, text: str) -> dict[str, Any]:
        return {"success": False, "code": code, "text": text}

    def _page(self, params: dict[str, str], default_limit: int) -> tuple[int, int] | dict[str, Any]:
        """``(offset, limit)`` as a paged endpoint reads them, or the 7231 error."""
        try:
            offset = int(params.get("offset", "0"))
            limit = int(params.get("limit", str(default_limit)))
        except ValueError:
            return self._code_error(7231, "Invalid offset value")
        if offset < 0 or limit < 1:
            return self._code_error(7231, "Invalid offset value")
        clamp = self._knobs.limit_clamp
        return offset, min(limit, clamp) if clamp > 0 else limit

    def user_records(self) -> list[tuple[str, dict[str, Any]]]:
        """Every user as users/search keys and sends it: ``(key, record)``."""
        out = []
        for index, agent in enumerate(self.agents):
            first, _, last = agent.name.partition(" ")
            record = {
                "id": int(agent.user_id),
                "email": f"{first}.{last}.{agent.user_id}@example.com".lower(),
                "first_name": first,
                "last_name": last,
                "acl_access_profile": 3,
                "user_level": 1,
                "status": "Y",
                "local_gmt": "-8.00",
                "created_at": "2024-02-05T09:14:02-0800",
                "last_login": None if index % 3 else f"{self.today.isoformat()} 08:01:00",
                "extension": [400000 + index],
            }
            key = agent.user_id if index >= self._knobs.user_key_mismatches else f"9{agent.user_id}"
            out.append((key, record))
        return out

    def users_answer(self, params: dict[str, str]) -> dict[str, Any]:
        """users/search: an object keyed by user id, paged, totals as strings."""
        terms = [term.strip().lower() for term in params.get("user", "").split(",") if term.strip()]
        if not terms and self._knobs.users_require_filter:
            return self._code_error(6005, "Missing users")
        page = self._page(params, 20)
        if isinstance(page, dict):
            return page
        offset, limit = page
        users = [
            (key, record)
            for key, record in self.user_records()
            if not terms
            or any(term in str(record[name]).lower() for term in terms for name in ("email", "first_name", "last_name"))
        ]
        chosen = users[offset : offset + limit]
        return {
            "success": True,
            "data": {"offset": offset, "limit": str(limit), "total": str(len(users)), "results": dict(chosen)},
        }

    def campaigns_answer(self, params: dict[str, str]) -> dict[str, Any]:
        """campaigns/search: every campaign, ``last_call_date`` a PHP date object or null."""
        dates = [
            {
                "date": f"{self.today.isoformat()} 17:59:02.000000",
                "timezone_type": 3,
                "timezone": "America/Los_Angeles",
            },
            {"date": f"{self.today.isoformat()} 09:30:00", "timezone_type": 3, "timezone": "UTC"},
            {"date": self.today.isoformat(), "timezone_type": 3, "timezone": "America/New_York"},
            None,
        ]
        data = [
            {
                "id": int(campaign),
                "name": f"Campaign {campaign}",
                "status": "Y",
                "last_call_date": dates[i % len(dates)],
            }
            for i, campaign in enumerate(self.campaigns)
        ]
        return {"success": True, "data": data}

    def lists_answer(self, params: dict[str, str]) -> dict[str, Any]:
        """lists/search for one status (``1`` active, ``0`` inactive); ``id`` narrows it."""
        status = params.get("status", "1")
        owners = {x: sorted(a.campaigns)[0] for a in self.agents for x in sorted(a.lists)}
        rows = []
        for index, list_id in enumerate(self.lists):
            active = index % 3 != 2
            called: Any = [
                None,
                f"{self.today.isoformat()} 10:00:00",
                {"date": f"{self.today.isoformat()} 11:00:00.000000", "timezone_type": 3, "timezone": "UTC"},
            ][index % 3]
            row = {
                "id": int(list_id),
                "name": f"List {list_id}",
                "status": "Y" if active else "N",
                "campaign_id": owners.get(list_id, self.campaigns[0]),
                "last_called_at": called,
            }
            if (status == "1") == active:
                rows.append(row)
        if "id" in params:
            rows = [row for row in rows if str(row["id"]) == params["id"]]
            if not rows:
                return self._code_error(6002, "No such List")
        return {"success": True, "data": rows}

    def statuses_answer(self, params: dict[str, str]) -> dict[str, Any]:
        """status/search: dispositions; each carries its own ``success`` flag (``Y``/``N``)."""
        query = params.get("query", "").strip().lower()
        data = []
        for index, code in enumerate(self.statuses):
            name = _STATUS_NAMES.get(code, f"Status {code}")
            if query and query not in code.lower() and query not in name.lower():
                continue
            data.append(
                {
                    "status": code,
                    "name": name,
                    "final": "Y",
                    "reached": "Y" if code not in ("NC", "B") else "N",
                    "success": "Y" if code == "1" else "N",
                    "dnc": "Y" if code == "DNC" else "N",
                    "callback": "Y" if code == "CALLBK" else "N",
                    "contact": "Y" if code in ("NI", "1", "2", "CALLBK") else "N",
                    "voicemail": "Y" if code == "A" else "N",
                    "custom_status": "N",
                    "workflow_dispositon_event_option": index % 2,
                }
            )
        return {"success": True, "code": 200, "data": data}

    # -- call logs ------------------------------------------------------------------------

    def day_calls(self, day: dt.date) -> list[tuple[str, int, int, int]]:
        """A local day's calls in time order: ``(call_date, agent index or -1, n, seconds)``.

        Each agent makes its agent-performance ``calls`` for the day (times
        ``calls_per_agent``), spread over its logged-in time from a local 08:00 start; the
        dialer's System User (666666) logs a call every 15 minutes of real time from local
        midnight to the next, so a DST day has 92 or 100 of them instead of 96. Cached per day.
        """
        import zoneinfo

        knobs = self._knobs
        key = (day, knobs.timezone, knobs.calls_per_agent)
        cached = self._calls_cache.get(key)
        if cached is not None:
            return cached
        zone = zoneinfo.ZoneInfo(knobs.timezone)
        utc = dt.timezone.utc
        midnight = dt.datetime.combine(day, dt.time(0), zone).astimezone(utc)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone).astimezone(utc)
        calls: list[tuple[str, int, int, int]] = []

        def local(instant: dt.datetime) -> str:
            return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

        for index, agent in enumerate(self.agents):
            metrics = self.day_metrics(agent, day)
            if not metrics:
                continue
            count = max(1, round(metrics["calls"] * knobs.calls_per_agent))
            start = dt.datetime.combine(day, dt.time(8, index % 60), zone).astimezone(utc)
            spacing = metrics["total"] / count
            talk = metrics["talk"] // max(1, metrics["human"])
            for n in range(count):
                calls.append((local(start + dt.timedelta(seconds=n * spacing)), index, n, talk))
        instant, n = midnight, 0
        while instant < next_midnight:
            calls.append((local(instant), -1, n, 0))
            instant += dt.timedelta(minutes=15)
            n += 1
        calls.sort(key=lambda call: (call[0], call[1], call[2]))
        if len(self._calls_cache) > 8:
            self._calls_cache.clear()
        self._calls_cache[key] = calls
        return calls

    def _call_record(self, day: dt.date, seq: int, call: tuple[str, int, int, int], recordings: bool) -> dict[str, Any]:
        when, index, n, talk = call
        call_id = str(day.toordinal() * 1_000_000 + seq)
        if index < 0:
            status, status_name, user_id, user, length = "NA", "No Answer", "666666", "System User", "0"
            campaign, list_id, term = self.campaigns[n % len(self.campaigns)], self.lists[n % len(self.lists)], "NONE"
        else:
            agent = self.agents[index]
            metrics = self.day_metrics(agent, day) or {"human": 0, "am": 0}
            human, am = metrics["human"], metrics["am"]
            kind = n % max(1, metrics.get("calls", 1))
            status, status_name = ("1", "Sale") if kind < human else ("A", "Answering Machine")
            if kind >= human + am:
                status, status_name = "NC", "No Contact"
            user_id, user = agent.user_id, agent.name
            campaign, list_id = sorted(agent.campaigns)[n % len(agent.campaigns)], sorted(agent.lists)[0]
            length, term = (str(talk) if status == "1" else "0"), ("AGENT" if status == "1" else "CALLER")
        record: dict[str, Any] = {
            "id": call_id,
            "lead_id": str(500000 + seq),
            "list_id": list_id,
            "campaign_id": campaign,
            "campaign": f"Campaign {campaign}",
            "user_id": user_id,
            "user": user,
            "status": status,
            "status_name": status_name,
            "phone_number": f"503555{seq % 10000:04d}",
            "number_dialed": f"503555{seq % 10000:04d}",
            "first_name": _FIRST[seq % len(_FIRST)],
            "last_name": None if seq % 7 == 0 else _LAST[seq % len(_LAST)],
            "call_length": length,
            "call_date": when,
            "agent_comment": None,
            "queue_id": None,
            "called_count": str(1 + seq % 3),
            "term_reason": term,
            "caller_id_displayed": "15035550100",
            "call_type": "OUTBOUND",
            "queue_position": "1",
            "queue_seconds": "0.00",
            "originating_agent_id": None,
        }
        if recordings:
            record["recording"] = (
                [{"recording_id": f"r{call_id}", "src": f"{call_id}.mp3", "public_url": None}] if status == "1" else []
            )
        return record

    def _call_times(self, day: dt.date, calls: list[tuple[str, int, int, int]]) -> list[str]:
        key = (day, self._knobs.timezone, self._knobs.calls_per_agent, "times")
        times = self._times_cache.get(key)
        if times is None or len(times) != len(calls):
            if len(self._times_cache) > 8:
                self._times_cache.clear()
            times = self._times_cache[key] = [call[0] for call in calls]
        return times

    def _encoded_call(self, day: dt.date, seq: int, call: tuple[str, int, int, int]) -> bytes:
        key = (day, self._knobs.timezone, self._knobs.calls_per_agent, seq)
        encoded = self._encoded_calls.get(key)
        if encoded is None:
            if len(self._encoded_calls) > 1_000_000:
                self._encoded_calls.clear()
            encoded = self._encoded_calls[key] = json.dumps(self._call_record(day, seq, call, False)).encode()
        return encoded

    def call_logs_answer(self, params: dict[str, str]) -> dict[str, Any] | _Encoded:
        """log/retrieve: the window's calls, filtered, ordered and paged as the service does."""
        knobs = self._knobs
        self._call_log_requests += 1
        today = self.today.isoformat()
        start = params.get("start_time", f"{today} 00:00:00")
        end = params.get("end_time", f"{today} 23:59:59")
        try:
            first_day = dt.date.fromisoformat(start[:10])
            last_day = dt.date.fromisoformat(end[:10])
        except ValueError:
            return self._code_error(6031, "Invalid date format")
        known = {
            "list_id": (6002, "Unknown List Id", self.lists),
            "campaign_id": (6004, "Unknown Campaign ID", self.campaigns),
            "user_id": (6006, "Unknown User Id", [a.user_id for a in self.agents] + ["666666"]),
            "queue_id": (6030, "Unknown Queue ID", self.queues),
        }
        for name, (code, text, values) in known.items():
            if name in params and params[name] not in values:
                return self._code_error(code, text)
        page = self._page(params, 500)
        if isinstance(page, dict):
            return page
        offset, limit = page
        if offset > 40_000:
            return self._code_error(7231, "Invalid offset value")
        filters = {
            name: params[name] for name in ("user_id", "campaign_id", "list_id", "status", "id") if name in params
        }
        # Each day's calls are sorted by local time: the window is a slice of each, found by bisection.
        spans: list[tuple[dt.date, int, int]] = []
        day = first_day
        while day <= last_day and (day - first_day).days < 400:
            if self.history_start <= day <= self.today:
                calls = self.day_calls(day)
                times = [call[0] for call in calls] if len(calls) < 64 else self._call_times(day, calls)
                spans.append((day, bisect.bisect_left(times, start), bisect.bisect_right(times, end)))
            day += dt.timedelta(days=1)
        late = self._call_log_requests <= knobs.late_rows_until_request
        rows: Sequence[tuple[dt.date, int, tuple[str, int, int, int]]]
        if filters or late:  # the careful path: every row of the window looked at
            rows = [
                (span_day, seq, self.day_calls(span_day)[seq])
                for span_day, lo, hi in spans
                for seq in range(lo, hi)
                if not (late and seq % 50 == 49)  # a late row: not there yet
            ]
            rows = [
                row
                for row in rows
                if all(self._call_record(row[0], row[1], row[2], False).get(k) == v for k, v in filters.items())
            ]
        else:
            rows = _LazyRows(spans, self.day_calls)
        descending = params.get("order", "desc").lower() != "asc"
        total = len(rows)
        if self._call_log_requests <= knobs.shortfall_requests:
            total += 1
        if descending:
            first, last = max(0, len(rows) - offset - limit), max(0, len(rows) - offset)
            chosen = [rows[i] for i in reversed(range(first, last))]
        else:
            chosen = [rows[i] for i in range(offset, min(offset + limit, len(rows)))]
        recordings = params.get("include_recordings") == "1"
        if not recordings:  # the common request: records encoded once per day, pages joined from them
            encoded = [self._encoded_call(day, seq, call) for day, seq, call in chosen]
            head = json.dumps({"offset": offset, "limit": limit, "total_found": str(total), "entries": len(encoded)})
            body = b'{"success": true, "data": ' + head[:-1].encode() + b', "results": ['
            return _Encoded(body + b", ".join(encoded) + b"]}}", len(encoded))
        results = [self._call_record(day, seq, call, recordings) for day, seq, call in chosen]
        return {
            "success": True,
            "data": {
                "offset": offset,
                "limit": limit,
                "total_found": str(total),
                "entries": len(results),
                "results": results,
            },
        }

    # -- agent productivity ---------------------------------------------------------------

    def day_events(self, day: dt.date) -> list[dict[str, Any]]:
        """A local day's agent state changes, in time order.

        Each working agent logs in at its call-log shift start, alternates READY and a
        pause ``events_per_hour`` times an hour, and logs out when its agent-performance
        ``total_time`` has passed. ``event_sec`` is the time since the agent's previous event.
        """
        import zoneinfo

        key = (day, self._knobs.timezone, self._knobs.events_per_hour)
        cached = self._events_cache.get(key)
        if cached is not None:
            return cached
        zone = zoneinfo.ZoneInfo(self._knobs.timezone)
        emails = {str(record["id"]): record["email"] for _, record in self.user_records()}
        events = []
        for index, agent in enumerate(self.agents):
            metrics = self.day_metrics(agent, day)
            if not metrics:
                continue
            start = int(dt.datetime.combine(day, dt.time(8, index % 60), zone).timestamp())
            total = metrics["total"]
            step = max(1, int(3600 / max(self._knobs.events_per_hour, 0.001)))
            moments = [0, *range(step, total, step), total]
            campaign = sorted(agent.campaigns)[0]
            for n, moment in enumerate(moments):
                state = _STATES[0] if n == 0 else _STATES[3] if n == len(moments) - 1 else _STATES[1 + n % 2]
                since = moment - moments[n - 1] if n else 0
                epoch = start + moment
                events.append(
                    {
                        "id": str(day.toordinal() * 10_000_000 + index * 100_000 + n),
                        "user_id": agent.user_id,
                        "user_name": agent.name,
                        "state": state[0],
                        "availability_code": state[1],
                        "availability_name": state[2],
                        "availability_code_name": "" if n % 3 else state[2],
                        "campaign_id": campaign,
                        "campaign_name": f"Campaign {campaign}",
                        "campaign_type": "Normal",
                        "event_epoch": str(epoch),
                        "event_sec": _hms(since),
                        "created_at": dt.datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M:%S"),
                        "ip_address": "203.0.113.24",
                        "user_uid": f"u{agent.user_id}",
                        "campaign_uid": f"c{campaign}",
                        "browser": "agent-dt.convoso.com ---- Mozilla/5.0",
                        "_email": emails.get(agent.user_id, ""),
                    }
                )
        events.sort(key=lambda event: (int(event["event_epoch"]), event["id"]))
        if len(self._events_cache) > 8:
            self._events_cache.clear()
        self._events_cache[key] = events
        return events

    def productivity_answer(self, params: dict[str, str]) -> dict[str, Any]:
        """agent-productivity/search: the days' events, filtered and paged (limit at most 1000)."""
        today = self.today.isoformat()
        try:
            first = dt.date.fromisoformat(params.get("date_start", today)[:10])
            last = dt.date.fromisoformat(params.get("date_end", today)[:10])
        except ValueError:
            return self._code_error(6031, "Invalid date")
        page = self._page(params, 1000)
        if isinstance(page, dict):
            return page
        offset, limit = page
        limit = min(limit, 1000)
        if offset > 50_000:
            return self._code_error(7231, "Invalid offset value")
        emails = {email.strip().lower() for email in params.get("agent_emails", "").split(",") if email.strip()}
        events = []
        day = first
        while day <= last and (day - first).days < 400:
            if self.history_start <= day <= self.today:
                events.extend(self.day_events(day))
            day += dt.timedelta(days=1)
        if "campaign_id" in params:
            events = [event for event in events if event["campaign_id"] == params["campaign_id"]]
        if emails:
            events = [event for event in events if event["_email"].lower() in emails]
        chosen = [{k: v for k, v in event.items() if k != "_email"} for event in events[offset : offset + limit]]
        return {
            "success": True,
            "data": {"offset": offset, "limit": str(limit), "total": str(len(events)), "entries": chosen},
        }

    def answer_path(
        self, path: str, params: dict[str, str], token: str | None
    ) -> dict[str, Any] | list[Any] | _Encoded:
        """The JSON any endpoint sends (no faults applied)."""
        if path == ENDPOINT:
            return self.answer(params, token)
        if token != self.token:
            return self._code_error(5001, "Auth token is invalid")
        if path == CALL_LOG_ENDPOINT:
            return self.call_logs_answer(params)
        if path == PRODUCTIVITY_ENDPOINT:
            return self.productivity_answer(params)
        answered: dict[str, Any] = getattr(self, LOOKUP_ENDPOINTS[path])(params)
        return answered

    def _shape(self, rows: list[dict[str, Any]]) -> dict[str, Any] | list[Any]:
        knobs = self._knobs
        if knobs.shape == "list":
            return rows
        empty: Any = {"list": [], "object": {}, "null": None}[knobs.empty_data]
        if knobs.shape == "data":
            return {"success": True, "data": rows or empty}
        keyed = {}
        for index, row in enumerate(rows):
            inner = {key: (str(value) if isinstance(value, int | float) else value) for key, value in row.items()}
            if index % 2:
                inner.pop("user_id")
            keyed[row["user_id"]] = inner
        return {"success": True, "code": 200, "total": str(len(rows)), "data": keyed or empty}


def _partial(daily: dict[str, int], share: float) -> dict[str, int]:
    """A day's figures ``share`` of the way in; parts still add up (floors never exceed the whole)."""
    out = {key: int(daily[key] * share) for key in ("total", "talk", "pause", "wrap", "calls", "human", "am")}
    out["wait"] = out["total"] - out["talk"] - out["pause"] - out["wrap"]
    out["others"] = out["calls"] - out["human"] - out["am"]
    return out


def _break_relations(record: dict[str, Any], sums: dict[str, int]) -> None:
    """Make a record break the contract's relations (``inconsistent_every``)."""
    record["total_time"] = _hms(sums["total"] + 600)
    record["talk_sec_pt"] = round(record["talk_sec_pt"] + 5.0, 1)
    record["human_answered"] = record["human_answered"] + 1


@dataclass
class _Encoded:
    """An answer already encoded as JSON, and the records it carries."""

    body: bytes
    rows: int


class _LazyRows(Sequence[tuple[dt.date, int, tuple[str, int, int, int]]]):
    """The rows of a window's day spans, indexed without building the list."""

    def __init__(self, spans: list[tuple[dt.date, int, int]], calls: Any) -> None:
        self._spans = spans
        self._calls = calls
        self._length = sum(hi - lo for _, lo, hi in spans)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, int):
            raise TypeError("one row at a time")
        for day, lo, hi in self._spans:
            if index < hi - lo:
                return day, lo + index, self._calls(day)[lo + index]
            index -= hi - lo
        raise IndexError(index)


_ALL_ENDPOINTS = frozenset({ENDPOINT, CALL_LOG_ENDPOINT, PRODUCTIVITY_ENDPOINT, *LOOKUP_ENDPOINTS})


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


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _record(agent: Agent, s: dict[str, int]) -> dict[str, Any]:
    return {
        "user_id": agent.user_id,
        "name": agent.name,
        "calls": s["calls"],
        "human_answered": s["human"],
        "talk_sec_pt": _pct(s["talk"], s["total"]),
        "wait_sec_pt": _pct(s["wait"], s["total"]),
        "pause_sec_pt": _pct(s["pause"], s["total"]),
        "wrap_sec_pt": _pct(s["wrap"], s["total"]),
        "talk_sec": _hms(s["talk"]),
        "wait_sec": _hms(s["wait"]),
        "pause_sec": _hms(s["pause"]),
        "wrap_sec": _hms(s["wrap"]),
        "total_time": _hms(s["total"]),
        "am": s["am"],
        "others": s["others"],
        "am_pt": _pct(s["am"], s["calls"]),
        "others_pt": _pct(s["others"], s["calls"]),
        "call_type": agent.call_type,
    }


def _hms(seconds: int) -> str:
    """``HH:MM:SS`` as the service writes durations (hours may pass 24)."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


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
            params=params,
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
            fault = owner._next_fault(params) if record.path in _ALL_ENDPOINTS else None
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
        if record.path not in _ALL_ENDPOINTS:
            self._send(record, 404, _HTML.format(code=404, reason="Not Found").encode(), "text/html")
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
            self._send(record, code, _HTML.format(code=code, reason=reason).encode(), "text/html", headers)
            return
        with owner._lock:
            payload = owner.answer_path(record.path, params, token)
        if isinstance(payload, _Encoded):  # a call-log page, assembled from cached records
            body, record.rows, payload = payload.body, payload.rows, {"success": True}
        else:
            body = json.dumps(payload).encode()
            record.rows = _rows_in(payload)
        if knobs.not_ready_status != 200 and record.rows == 0 and token == owner.token:
            code = knobs.not_ready_status
            self._send(record, code, _HTML.format(code=code, reason="Not Ready").encode(), "text/html")
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


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; prints the base URL on the first line."""
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_convoso.testing.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="emulator-token")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--agents", type=int, default=12)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the emulator's current day")
    parser.add_argument("--shape", choices=SHAPES, default="list")
    parser.add_argument("--error-shape", choices=ERROR_SHAPES, default="contract")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds from a request to its answer")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (0-1)")
    parser.add_argument("--fault-kinds", action="append", help=f"comma-separated subset of {','.join(FAULT_KINDS)}")
    parser.add_argument("--data-after-requests", type=int, default=0)
    parser.add_argument("--data-after-seconds", type=float, default=0.0)
    parser.add_argument("--accept-json", action="store_true", help="read JSON bodies (the live service does not)")
    parser.add_argument("--timezone", default="UTC", help="the account's time zone (call-log times)")
    parser.add_argument("--calls-per-agent", type=float, default=1.0, help="scales each agent's calls a day")
    parser.add_argument("--changing-requests", type=int, default=0, help="figures move until this request")
    parser.add_argument("--changing-seconds", type=float, default=0.0, help="figures move for this long")
    parser.add_argument("--inconsistent-every", type=int, default=0, help="every Nth agent breaks the relations")
    parser.add_argument(
        "--not-ready-status", type=int, default=200, help="HTTP status of an answer with no rows (peer benchmarks)"
    )
    args = parser.parse_args(argv)
    if not _is_loopback(args.host):
        parser.error("the emulator only listens on loopback")
    emulator = ConvosoEmulator(
        token=args.token,
        seed=args.seed,
        agents=args.agents,
        today=args.today,
        host=args.host,
        port=args.port,
        shape=args.shape,
        error_shape=args.error_shape,
        latency=args.latency,
        fault_rate=args.fault_rate,
        fault_kinds=_split(args.fault_kinds) or FAULT_KINDS,
        data_after_requests=args.data_after_requests,
        data_after_seconds=args.data_after_seconds,
        accept_json=args.accept_json,
        not_ready_status=args.not_ready_status,
        changing_requests=args.changing_requests,
        changing_seconds=args.changing_seconds,
        inconsistent_every=args.inconsistent_every,
        timezone=args.timezone,
        calls_per_agent=args.calls_per_agent,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with emulator:
        print(emulator.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
