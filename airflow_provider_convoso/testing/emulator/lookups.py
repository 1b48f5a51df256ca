"""The lookup endpoints: users, campaigns, lists and statuses, from the account's agents."""

from __future__ import annotations

from typing import Any

from airflow_provider_convoso.testing.emulator.world import World

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


class LookupAnswers(World):
    """Answers of The lookup endpoints."""

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
