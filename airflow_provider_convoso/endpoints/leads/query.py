"""The request model of ``leads/search``: a window of update times, filters, paging.

The window is sent as ``updated_at_start_date``/``updated_at_end_date`` in account-local
``YYYY-MM-DD HH:MM:SS`` (the format the SDK documents and a working client sends; the help
page's ``YYYY-MM-DD`` would lose the time). With those filters set the service answers in
ascending order of update time, which the export's keyset paging relies on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.endpoints.leads import FILTERS
from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.wire.local_time import local_time_text
from airflow_provider_convoso.wire.query import Query, _page_number, single_values

#: The largest page the service serves ("maximum is 2000").
MAX_LIMIT = 2000

#: leads/search: code -> the parameter it rejects.
FILTER_ERROR_CODES: dict[int, str] = {6000: "list_id", 7230: "limit"}


@dataclasses.dataclass(frozen=True)
class LeadsQuery(Query):
    """One page of ``leads/search`` over a window of update times (both ends included)."""

    endpoint: ClassVar[str] = "/leads/search"

    updated_at_start_date: str = ""
    updated_at_end_date: str = ""
    lead_id: str | None = None
    list_id: str | None = None
    user_id: str | None = None
    owner_id: str | None = None
    status: str | None = None
    created_by: str | None = None
    last_modified_by: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    limit: int = MAX_LIMIT
    offset: int = 0

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> LeadsQuery:
        start = local_time_text("updated_start", inputs.get("updated_at_start_date"))
        end = local_time_text("updated_end", inputs.get("updated_at_end_date"))
        if start > end:
            raise ConvosoInputError(f"updated_start {start} is later than updated_end {end}")
        filters = single_values(FILTERS, inputs)
        return cls(
            updated_at_start_date=start,
            updated_at_end_date=end,
            **filters,
            limit=_page_number("limit", inputs.get("limit", MAX_LIMIT), maximum=MAX_LIMIT) or 1,
            offset=_page_number("offset", inputs.get("offset", 0)),
        )

    def window(self, start: str, end: str) -> LeadsQuery:
        """Return the same filters over another window of update times, from its first row.

        :param start: local ``YYYY-MM-DD HH:MM:SS``.
        :param end: local ``YYYY-MM-DD HH:MM:SS``.
        :return: the query.
        """
        return dataclasses.replace(self, updated_at_start_date=start, updated_at_end_date=end, offset=0)

    def page(self, offset: int) -> LeadsQuery:
        """Return the same window and filters at another offset.

        :param offset: the first row wanted.
        :return: the query.
        """
        return dataclasses.replace(self, offset=offset)
