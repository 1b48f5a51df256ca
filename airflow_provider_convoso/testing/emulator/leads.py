"""``leads/search``: the account's lead table, ordered by update time, changing while it is read."""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from airflow_provider_convoso.testing.emulator.call_logs import _Encoded
from airflow_provider_convoso.testing.emulator.contract import (
    LEADS_LIMIT_CAP,
    LEADS_LIMIT_ERROR,
    OFFSET_ERROR_CODE,
    OFFSET_ERROR_TEXT,
)
from airflow_provider_convoso.testing.emulator.world import _FIRST, _LAST, World

_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The first lead's id: call-log rows' ``lead_id`` values fall in the lead table.
FIRST_LEAD_ID = 500_000

_STATUSES = (
    ("NEW", "New Lead"),
    ("A", "Answering Machine"),
    ("CALLBK", "Call Back"),
    ("1", "Sale"),
    ("NI", "Not Interested"),
)


class LeadAnswers(World):
    """Answers of ``leads/search``.

    Lead ``k`` (id ``500000 + k``) was last updated on day ``k // leads_per_day`` of the
    ``lead_days`` days ending today, at a time spread evenly over that local day, so leads
    share seconds once a day holds more than 86,400 of them. ``lead_updates_per_page``
    updates leads while an export reads: before each page, some already read and some not
    yet read get the next update time of the account's clock (one second after its newest).
    """

    _lead_updates: dict[int, tuple[str, int]]
    _lead_clock: str
    _encoded_leads: dict[tuple[int, int], bytes]

    def lead_count(self) -> int:
        """How many leads the account has."""
        return self._knobs.leads_per_day * self._knobs.lead_days

    def _base_time(self, k: int) -> str:
        knobs = self._knobs
        day = self.today - dt.timedelta(days=knobs.lead_days - 1 - k // knobs.leads_per_day)
        second = (k % knobs.leads_per_day) * 86_400 // knobs.leads_per_day
        return (dt.datetime.combine(day, dt.time(0)) + dt.timedelta(seconds=second)).strftime(_FORMAT)

    def lead_time(self, k: int) -> str:
        """Lead ``k``'s update time now (account-local text)."""
        moved = self._lead_updates.get(k)
        return moved[0] if moved else self._base_time(k)

    def lead_record(self, k: int) -> dict[str, Any]:
        """Lead ``k`` as the service sends it now: every value a string."""
        version = self._lead_updates.get(k, ("", 0))[1]
        status, status_name = _STATUSES[(k + version) % len(_STATUSES)]
        agent = self.agents[k % len(self.agents)]
        updated = self.lead_time(k)
        created = (dt.datetime.strptime(self._base_time(k), _FORMAT) - dt.timedelta(days=30 + k % 60)).strftime(_FORMAT)
        called = k % 5 + version
        lead_id = str(FIRST_LEAD_ID + k)
        return {
            "id": lead_id,
            "lead_id": lead_id,
            "created_at": created,
            "updated_at": updated,
            "list_id": self.lists[k % len(self.lists)],
            "directory_name": f"List {self.lists[k % len(self.lists)]}",
            "campaign_name": f"Campaign {self.campaigns[k % len(self.campaigns)]}",
            "status": status,
            "status_name": status_name,
            "user_id": agent.user_id,
            "user_name": agent.name,
            "owner_id": agent.user_id,
            "created_by": "1",
            "last_modified_by": agent.user_id if version else "1",
            "first_name": _FIRST[k % len(_FIRST)],
            "last_name": _LAST[(k // 3) % len(_LAST)],
            "phone_number": f"503555{k % 10000:04d}",
            "alt_phone_1": "",
            "alt_phone_2": "",
            "email": f"lead{k}@example.com" if k % 4 else "",
            "address1": f"{100 + k % 900} Main St",
            "address2": "",
            "city": "Portland",
            "state": "OR",
            "province": "",
            "postal_code": f"97{k % 1000:03d}",
            "country": "USA",
            "gender": "",
            "date_of_birth": "" if k % 3 else f"19{60 + k % 40}-0{1 + k % 9}-1{k % 10}",
            "called_count": str(called),
            "called_count_inbound": str(k % 2),
            "last_called": updated if called else "0000-00-00 00:00:00",
            "carrier_name": "",
            "carrier_type": "mobile" if k % 2 else "landline",
            "field_1": f"src-{k % 7}",
            "field_81": f"{updated[:10]} 1{k % 8}:30:00" if k % 5 == 0 else "",
            "field_84": "",
        }

    def leads_in_window(self, start: str, end: str) -> Sequence[int]:
        """Every lead whose update time is in ``[start, end]`` now, in the service's order."""
        count = self.lead_count()
        lo = bisect.bisect_left(range(count), start, key=self._base_time)
        hi = bisect.bisect_right(range(count), end, key=self._base_time)
        if not self._lead_updates:
            return range(lo, hi)  # a page is a slice of it: nothing built per request
        moved = self._lead_updates
        rows = [(self._base_time(k), k) for k in range(lo, hi) if k not in moved]
        rows += [(when, k) for k, (when, _) in moved.items() if start <= when <= end]
        rows.sort()
        return [k for _, k in rows]

    def _lead_window_bound(self, params: dict[str, str], name: str, default: str) -> str | None:
        value = params.get(name, "").strip()
        if not value:
            return default
        try:
            if len(value) == 10:  # the help page's YYYY-MM-DD: a whole day
                dt.date.fromisoformat(value)
                return f"{value} {'00:00:00' if name.endswith('start_date') else '23:59:59'}"
            dt.datetime.strptime(value, _FORMAT)
        except ValueError:
            return None
        return value

    def leads_answer(self, params: dict[str, str]) -> dict[str, Any] | _Encoded:
        """leads/search: the window's leads, filtered and paged as the service does."""
        knobs = self._knobs
        page = self._page(params, 10)
        if isinstance(page, dict):
            return page
        offset, limit = page
        if int(params.get("limit", "10")) > LEADS_LIMIT_CAP:
            return self._code_error(*LEADS_LIMIT_ERROR)
        if knobs.leads_offset_cap and offset > knobs.leads_offset_cap:
            return self._code_error(OFFSET_ERROR_CODE, OFFSET_ERROR_TEXT)
        ordered = "updated_at_start_date" in params or "updated_at_end_date" in params
        start = self._lead_window_bound(params, "updated_at_start_date", "0000-00-00 00:00:00")
        end = self._lead_window_bound(params, "updated_at_end_date", "9999-12-31 23:59:59")
        if start is None or end is None:
            return self._code_error(6031, "Invalid date format")
        if knobs.lead_updates_per_page:  # the account moves on between two pages of a reader
            self._update_leads(self.leads_in_window(start, end), offset, knobs.lead_updates_per_page)
        window = self.leads_in_window(start, end)
        if not ordered and not isinstance(window, range):
            window = sorted(window)  # by id: the order without the update filters is not documented
        filters = {name: params[name] for name in ("lead_id", "list_id", "user_id", "status") if name in params}
        if filters:
            window = [k for k in window if all(self.lead_record(k)[n] == v for n, v in filters.items())]
        chosen = window[offset : offset + limit]
        head = json.dumps({"offset": offset, "limit": str(limit), "total": str(len(window))})
        body = b'{"success": true, "data": ' + head[:-1].encode() + b', "entries": ['
        return _Encoded(body + b", ".join(self._encoded_lead(k) for k in chosen) + b"]}}", len(chosen))

    def _encoded_lead(self, k: int) -> bytes:
        """Lead ``k``'s JSON now, encoded once per version (large tables answer pages in time)."""
        key = (k, self._lead_updates.get(k, ("", 0))[1])
        encoded = self._encoded_leads.get(key)
        if encoded is None:
            if len(self._encoded_leads) > max(400_000, 2 * self.lead_count()):
                self._encoded_leads.clear()
            encoded = self._encoded_leads[key] = json.dumps(self.lead_record(k)).encode()
        return encoded

    def _update_leads(self, window: Sequence[int], unread_from: int, count: int) -> None:
        """Give ``count`` leads of the window the clock's next time: half from its start (read
        already by a reader going forward), half spread over what it has not read yet (from
        the page asked for on)."""
        front = list(window[: (count + 1) // 2])
        rest = list(window[unread_from:])
        step = max(1, len(rest) // max(1, count - len(front)))
        chosen = list(dict.fromkeys(front + rest[::step][: count - len(front)]))
        newest = max(
            [self._lead_clock, self._base_time(self.lead_count() - 1)] if self.lead_count() else [self._lead_clock]
        )
        when = (dt.datetime.strptime(newest, _FORMAT) + dt.timedelta(seconds=1)).strftime(_FORMAT)
        self._lead_clock = when
        for k in chosen:
            self._lead_updates[k] = (when, self._lead_updates.get(k, ("", 0))[1] + 1)

    def leads_truth(self, start: str, end: str) -> dict[str, str]:
        """Lead id -> update time for every lead in ``[start, end]`` now (a test's oracle)."""
        return {str(FIRST_LEAD_ID + k): self.lead_time(k) for k in self.leads_in_window(start, end)}
