"""The one synthetic account every endpoint's answers derive from: agents, their daily
figures, and what every answerer shares (knobs, errors, paging, date ranges, readiness).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_convoso.testing.emulator.contract import (
    AUTH_ERROR_CODE,
    FAULT_KINDS,
    OFFSET_ERROR_CODE,
    OFFSET_ERROR_TEXT,
)

_FIRST = ["Jane", "John", "Maria", "Wei", "Aisha", "Carlos", "Olga", "Kenji", "Fatima", "Liam", "Priya", "Noah"]


_LAST = ["Smith", "Doe", "Garcia", "Chen", "Khan", "Silva", "Ivanova", "Sato", "Ali", "Murphy", "Patel", "Brown"]


_CALL_TYPES = ["outbound", "outbound", "inbound", "blended", ""]


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
    denied_paths: frozenset[str] = frozenset()
    leads_per_day: int = 400
    lead_days: int = 7
    lead_updates_per_page: int = 0
    leads_offset_cap: int = 0
    recording_no_link_every: int = 0
    recording_tiny_every: int = 0
    recording_missing_every: int = 0
    recording_expired_every: int = 0
    recording_bytes: int = 0
    recording_latency: float = 0.0


class World:
    """The account and the helpers every answerer uses.

    The server (:class:`~.server.ConvosoEmulator`) sets this state up; the answerers of each
    endpoint, mixed in beside it, read it.
    """

    token: str
    seed: int
    today: dt.date
    history_start: dt.date
    agents: list[Agent]
    campaigns: list[str]
    lists: list[str]
    queues: list[str]
    statuses: list[str]
    _knobs: _Knobs
    _by_id: dict[str, Agent]
    _known: dict[str, frozenset[str]]
    _seen: dict[str, int]
    _data_requests: dict[str, int]
    _started_at: float
    _change_requests: dict[str, int]
    _changing_since: float
    _call_log_requests: int
    _calls_cache: dict[tuple[dt.date, str, float], list[tuple[str, int, int, int]]]
    _events_cache: dict[tuple[dt.date, str, float], list[dict[str, Any]]]
    _times_cache: dict[tuple[dt.date, str, float, str], list[str]]
    _encoded_calls: dict[tuple[dt.date, str, float, int], bytes]
    _records: Callable[..., tuple[dict[str, Any], ...]]

    @property
    def url(self) -> str:
        """Return the running server's base URL (the server knows it)."""
        raise NotImplementedError

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

    def _error(self, code: int | None, message: str, text: str | None = None) -> dict[str, Any]:
        if self._knobs.error_shape == "code_text" and code is not None:
            return {"success": False, "code": code, "text": text or message}
        body: dict[str, Any] = {"success": False}
        if code is not None and code != AUTH_ERROR_CODE:
            body["error_code"] = code
        body["error"] = message
        return body

    def _code_error(self, code: int, text: str) -> dict[str, Any]:
        return {"success": False, "code": code, "text": text}

    def _page(self, params: dict[str, str], default_limit: int) -> tuple[int, int] | dict[str, Any]:
        """``(offset, limit)`` as a paged endpoint reads them, or the 7231 error."""
        try:
            offset = int(params.get("offset", "0"))
            limit = int(params.get("limit", str(default_limit)))
        except ValueError:
            return self._code_error(OFFSET_ERROR_CODE, OFFSET_ERROR_TEXT)
        if offset < 0 or limit < 1:
            return self._code_error(OFFSET_ERROR_CODE, OFFSET_ERROR_TEXT)
        clamp = self._knobs.limit_clamp
        return offset, min(limit, clamp) if clamp > 0 else limit

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
