"""The request model of ``agent-productivity/search``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.params import iter_days, parse_date_range
from airflow_provider_convoso.queries import Query, _page_number, _search_text


@dataclasses.dataclass(frozen=True)
class AgentProductivityQuery(Query):
    """One page of ``agent-productivity/search``: one account-local day, filters, paging.

    A day at a time (``date_start`` = ``date_end``): whether an end date covers its whole
    day is not documented, and one day's events are what a run loads.
    """

    endpoint: ClassVar[str] = "/agent-productivity/search"

    date_start: dt.date | None = None
    date_end: dt.date | None = None
    campaign_id: str | None = None
    agent_emails: str | None = None
    limit: int = 1000
    offset: int = 0

    #: Rows one filter set can reach: the offset cap (50,000) plus a page.
    OFFSET_CAP: ClassVar[int] = 50_000

    @classmethod
    def _validated(cls, inputs: Mapping[str, Any]) -> AgentProductivityQuery:
        start, end = parse_date_range(inputs.get("date_start"), inputs.get("date_end"))
        if start is None or end is None:
            raise ConvosoInputError("agent productivity needs date_start and date_end")
        campaign = _search_text("campaign_id", inputs.get("campaign_id"))
        if campaign is not None and not campaign.isdigit():
            raise ConvosoInputError(f"campaign_id must be one numeric id, got {campaign!r}")
        emails = inputs.get("agent_emails")
        if isinstance(emails, list | tuple):
            emails = ",".join(str(email).strip() for email in emails)
        return cls(
            date_start=start,
            date_end=end,
            campaign_id=campaign,
            agent_emails=_search_text("agent_emails", emails),
            limit=min(_page_number("limit", inputs.get("limit", 1000)) or 1, 1000),
            offset=_page_number("offset", inputs.get("offset", 0), maximum=cls.OFFSET_CAP),
        )

    def days(self) -> list[dt.date]:
        """Return every day of the range, both ends included.

        :return: the dates, in order.
        """
        if self.date_start is None or self.date_end is None:
            raise ConvosoInputError("agent productivity needs date_start and date_end")
        return iter_days(self.date_start, self.date_end)

    def page(self, offset: int) -> AgentProductivityQuery:
        """Return the same day and filters at another offset.

        :param offset: the first row wanted.
        :return: the query.
        """
        return dataclasses.replace(self, offset=offset)
