"""``log/retrieve``: each day's calls, consistent with the agents' daily figures."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_convoso.testing.emulator.contract import (
    CALL_LOG_FILTER_CODES,
    CALL_LOG_OFFSET_CAP,
    OFFSET_ERROR_CODE,
    OFFSET_ERROR_TEXT,
)
from airflow_provider_convoso.testing.emulator.recordings import RecordingAnswers
from airflow_provider_convoso.testing.emulator.world import _FIRST, _LAST


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


class CallLogAnswers(RecordingAnswers):
    """Answers of ``log/retrieve``."""

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
            record["recording"] = self.recording_objects(call_id) if status == "1" else []
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
            if len(self._encoded_calls) > 3_000_000:  # a day of over a million calls stays encoded
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
            "list_id": self.lists,
            "campaign_id": self.campaigns,
            "user_id": [a.user_id for a in self.agents] + ["666666"],
            "queue_id": self.queues,
        }
        for name, (code, text) in CALL_LOG_FILTER_CODES.items():
            if name in params and params[name] not in known[name]:
                return self._code_error(code, text)
        page = self._page(params, 500)
        if isinstance(page, dict):
            return page
        offset, limit = page
        if offset > CALL_LOG_OFFSET_CAP:
            return self._code_error(OFFSET_ERROR_CODE, OFFSET_ERROR_TEXT)
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
