"""Request models of the lookup endpoints: users, campaigns, lists and statuses."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.queries import Query, _page_number, _search_text


@dataclasses.dataclass(frozen=True)
class UsersQuery(Query):
    """One page of ``users/search``: the account's users, optionally matched by ``user``.

    ``user`` is a comma list matched against email, first or last name; left out, the
    request asks for every user (what working clients send; the help page calls it required).
    """

    endpoint: ClassVar[str] = "/users/search"

    user: str | None = None
    limit: int = 100
    offset: int = 0

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> UsersQuery:
        return cls(
            user=_search_text("user", inputs.get("user")),
            limit=_page_number("limit", inputs.get("limit", 100)) or 1,
            offset=_page_number("offset", inputs.get("offset", 0)),
        )


@dataclasses.dataclass(frozen=True)
class CampaignsQuery(Query):
    """``campaigns/search``: every campaign, in one answer (no parameters, not paged)."""

    endpoint: ClassVar[str] = "/campaigns/search"

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> CampaignsQuery:
        return cls()


@dataclasses.dataclass(frozen=True)
class ListsQuery(Query):
    """``lists/search`` for one status: ``"1"`` active lists, ``"0"`` inactive ones."""

    endpoint: ClassVar[str] = "/lists/search"

    status: str = "1"

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> ListsQuery:
        status = str(inputs.get("status", "1")).strip()
        if status not in ("0", "1"):
            raise ConvosoInputError(f"status must be '1' (active) or '0' (inactive), got {inputs.get('status')!r}")
        return cls(status=status)


@dataclasses.dataclass(frozen=True)
class StatusQuery(Query):
    """``status/search``: dispositions matched by abbreviation or name; empty asks for all."""

    endpoint: ClassVar[str] = "/status/search"

    query: str = ""

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> StatusQuery:
        return cls(query=_search_text("query", inputs.get("query")) or "")
