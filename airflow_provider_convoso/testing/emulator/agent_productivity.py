"""``agent-productivity/search``: each day's state-change events, consistent with the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow_provider_convoso.testing.emulator.agent_performance import _hms
from airflow_provider_convoso.testing.emulator.contract import (
    OFFSET_ERROR_CODE,
    OFFSET_ERROR_TEXT,
    PRODUCTIVITY_OFFSET_CAP,
    PRODUCTIVITY_PAGE_CAP,
)
from airflow_provider_convoso.testing.emulator.lookups import LookupAnswers

#: Agent states as different sources spell them (compared case-insensitively).
_STATES = (("LOGIN", "1", "Login"), ("READY", "2", "Ready"), ("Pause", "1217", "Lunch"), ("LogOut", "3", "Logout"))


class ProductivityAnswers(LookupAnswers):
    """Answers of ``agent-productivity/search``."""

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
        page = self._page(params, PRODUCTIVITY_PAGE_CAP)
        if isinstance(page, dict):
            return page
        offset, limit = page
        limit = min(limit, PRODUCTIVITY_PAGE_CAP)
        if offset > PRODUCTIVITY_OFFSET_CAP:
            return self._code_error(OFFSET_ERROR_CODE, OFFSET_ERROR_TEXT)
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
