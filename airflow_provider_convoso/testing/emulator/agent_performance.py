"""``agent-performance/search``: records summed from the account's daily figures, in three shapes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_convoso.testing.emulator.contract import AGENT_PERFORMANCE_FILTERS, AUTH_ERROR_CODE, DATE_RE
from airflow_provider_convoso.testing.emulator.world import Agent, World

_CACHED_ROWS = 4096  # records the emulator keeps computed (none for more agents than this)


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


class AgentPerformanceAnswers(World):
    """Answers of ``agent-performance/search``."""

    def records(self, params: dict[str, str], progress: float = 1.0) -> list[dict[str, Any]]:
        """The records the endpoint returns for validated ``params``, in user-id order.

        ``progress`` below 1 scales each day's figures down (to half at 0), keeping every
        relation between them: a day still being written.
        """
        span = self._date_range(params)
        if span is None:
            return []
        wanted = tuple((name, params[name]) for name, _, _, _ in AGENT_PERFORMANCE_FILTERS if name in params)
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
            if any(
                not (getattr(agent, attr) & wanted[name])
                for name, _, _, attr in AGENT_PERFORMANCE_FILTERS
                if name in wanted
            ):
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
            return self._error(AUTH_ERROR_CODE, "Invalid authentication token", "Auth token is invalid")
        for name in ("date_start", "date_end"):
            if name in params:
                try:
                    if not DATE_RE.fullmatch(params[name]):
                        raise ValueError
                    dt.date.fromisoformat(params[name])
                except ValueError:
                    return self._error(None, "Invalid date format. Use YYYY-MM-DD")
        for name, code, message, attr in AGENT_PERFORMANCE_FILTERS:
            if name in params and any(part not in self._known[attr] for part in params[name].split(",")):
                return self._error(code, message)
        rows = self.records(params, self._progress(params)) if self._data_ready(params) else []
        return self._shape(rows)

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
