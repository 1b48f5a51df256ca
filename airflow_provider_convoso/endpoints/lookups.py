"""The lookup tables (users, campaigns, lists, statuses): their envelopes, shapes and paging.

Pure: no Airflow, no httpx. :func:`load` asks ``fetch`` (the hook's ``fetch_payload``)
for each request a table needs and returns the whole table, every id as a string so it
joins with call-log and productivity ids. The shapes are those of
``convoso-call-logs-and-productivity.md``: users keyed by id and paged, campaigns and
lists with PHP date objects, lists queried once per status, statuses whose records carry
a ``success`` flag of their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.tables import Column, Table
from airflow_provider_convoso.wire.envelope import count_of, data_of, records_in, snippet
from airflow_provider_convoso.wire.paging import offset_pages, unique_by_id
from airflow_provider_convoso.wire.query import Query, _page_number, _search_text


def _lookup_table(name: str, key: str, columns: tuple[tuple[str, str], ...]) -> Table:
    return Table(name, columns=tuple(Column(column, kind) for column, kind in columns), key=(key,))


#: The published tables, their columns as the help pages document them (ids as strings).
SCHEMAS: dict[str, Table] = {
    "users": _lookup_table(
        "users",
        "id",
        (
            ("id", "string"), ("email", "string"), ("first_name", "string"), ("last_name", "string"),
            ("status", "string"), ("user_level", "int"), ("acl_access_profile", "int"), ("created_at", "string"),
            ("extension", "json"), ("last_login", "string"), ("local_gmt", "string"),
        ),
    ),
    "campaigns": _lookup_table(
        "campaigns", "id", (("id", "string"), ("name", "string"), ("status", "string"), ("last_call_date", "string"))
    ),
    "lists": _lookup_table(
        "lists",
        "id",
        (("id", "string"), ("name", "string"), ("status", "string"), ("campaign_id", "string"),
         ("last_called_at", "string")),
    ),
    "statuses": _lookup_table(
        "statuses",
        "status",
        (
            ("status", "string"), ("name", "string"), ("callback", "string"), ("contact", "string"),
            ("custom_status", "string"), ("dnc", "string"), ("final", "string"), ("reached", "string"),
            ("success", "string"), ("voicemail", "string"), ("workflow_disposition_event_option", "int"),
            ("hex_color", "string"),
        ),
    ),
}  # fmt: skip


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


#: Pages read from users/search at most (a loop bound: 2,000 pages of the echoed limit).
MAX_PAGES = 2000
#: The disposition key as Convoso's example spells it, and as its field table does.
_MISSPELT = "workflow_dispositon_event_option"
_SPELT = "workflow_disposition_event_option"

_log = logging.getLogger(__name__)

Fetch = Callable[[Query], Any]


def _id_text(value: Any) -> str | None:
    """An id as the string every table joins on (``1187342`` and ``"1187342"`` alike)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def php_date(value: Any) -> Any:
    """A PHP ``DateTime`` object (``{date, timezone_type, timezone}``) as ISO 8601 text.

    ``date`` may be ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS`` or that plus ``.ffffff``; a
    named time zone gives an offset (``2026-04-14T17:59:02-07:00``), an offset zone is kept
    as written. Anything else (null, a plain string) is returned unchanged.

    :param value: the field's value.
    :return: the ISO text, or the value as it came.
    """
    if not isinstance(value, Mapping) or not isinstance(value.get("date"), str):
        return value
    text = value["date"].strip()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConvosoResponseError(f"a PHP date object has an unreadable date: {snippet(text, 40)}") from None
    zone = value.get("timezone")
    if isinstance(zone, str) and zone.strip():
        when = _in_zone(when, zone.strip())
    if len(text) == 10:  # a date alone stays a date
        return when.date().isoformat()
    return when.isoformat()


def _in_zone(when: dt.datetime, zone: str) -> dt.datetime:
    import zoneinfo

    if zone.upper() in ("UTC", "Z"):
        return when.replace(tzinfo=dt.timezone.utc)
    if zone[:1] in "+-":
        try:
            hours, minutes = zone[1:].split(":") if ":" in zone else (zone[1:3], zone[3:5] or "0")
            offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
        except ValueError:
            return when
        return when.replace(tzinfo=dt.timezone(-offset if zone[0] == "-" else offset))
    try:
        return when.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return when  # a zone this machine does not know: the local text as sent


# -- the four tables ------------------------------------------------------------------


def iter_users(fetch: Fetch, user: str | None = None, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
    """Yield every user, page by page.

    ``data.results`` is an object keyed by user id; each record's id comes from its own
    ``id`` (the key is the fallback, and a key that disagrees is logged). Paging steps by
    the rows received and stops at ``data.total``, on a short or empty page, or after
    :data:`MAX_PAGES` pages.

    :param fetch: sends a query, returns the decoded answer.
    :param user: the search terms, or ``None`` for every user.
    :param page_size: the ``limit`` asked for.
    :return: the users, each ``id`` a string.
    """

    def read(offset: int) -> tuple[list[dict[str, Any]], int]:
        query = UsersQuery.from_inputs(user=user, limit=page_size, offset=offset)
        data = data_of(fetch(query), query.to_params())
        if data is None or data in ({}, []):
            return [], 0
        if not isinstance(data, Mapping):
            raise ConvosoResponseError(f"users/search 'data' is a JSON {type(data).__name__}, not an object")
        results = data.get("results")
        pairs: list[tuple[Any, Any]]
        if results is None or results in ({}, []):
            pairs = []
        elif isinstance(results, Mapping):
            pairs = list(results.items())
        elif isinstance(results, list):
            pairs = [(None, item) for item in results]
        else:
            raise ConvosoResponseError(f"users/search 'results' is a JSON {type(results).__name__}")
        records = []
        for key, item in pairs:
            [record] = records_in([item], "users/search 'results'")
            inner = _id_text(record.get("id"))
            if key is not None and inner is not None and inner != str(key):
                _log.warning("users/search: the user keyed %r has id %r; using the id", str(key)[:40], inner[:40])
            record["id"] = inner if inner is not None else _id_text(key)
            records.append(record)
        return records, count_of(data.get("total", 0), "users/search total")

    pages = offset_pages(read, max_pages=MAX_PAGES, what="users/search (narrow it with user=...)")
    yield from unique_by_id((record for records, _ in pages for record in records), [0])


def load_campaigns(fetch: Fetch) -> list[dict[str, Any]]:
    """Return every campaign: ``id`` as a string, ``last_call_date`` as ISO text.

    :param fetch: sends a query, returns the decoded answer.
    :return: the campaigns.
    """
    query = CampaignsQuery()
    records = records_in(data_of(fetch(query)), "campaigns/search 'data'")
    for record in records:
        record["id"] = _id_text(record.get("id"))
        if "last_call_date" in record:
            record["last_call_date"] = php_date(record["last_call_date"])
    return records


def load_lists(fetch: Fetch) -> list[dict[str, Any]]:
    """Return every list: the active ones (``status=1``) and the inactive ones (``status=0``).

    A list that both answers name is kept once. ``id`` and ``campaign_id`` are strings,
    ``last_called_at`` (null, text or a PHP date object) is ISO text or null.

    :param fetch: sends a query, returns the decoded answer.
    :return: the lists.
    """
    merged: dict[str, dict[str, Any]] = {}
    for status in ("1", "0"):
        query = ListsQuery.from_inputs(status=status)
        for record in records_in(data_of(fetch(query), query.to_params()), "lists/search 'data'"):
            record["id"] = _id_text(record.get("id", record.get("list_id")))
            if "campaign_id" in record:
                record["campaign_id"] = _id_text(record["campaign_id"])
            if "last_called_at" in record:
                record["last_called_at"] = php_date(record["last_called_at"])
            merged.setdefault(str(record["id"]), record)
    return list(merged.values())


def load_statuses(fetch: Fetch, query_text: str = "") -> list[dict[str, Any]]:
    """Return the dispositions: each record's own ``success`` flag is a field, not a verdict.

    The misspelt ``workflow_dispositon_event_option`` (Convoso's example) is read as
    ``workflow_disposition_event_option`` (its field table).

    :param fetch: sends a query, returns the decoded answer.
    :param query_text: abbreviation or name to match; empty asks for every status.
    :return: the statuses.
    """
    query = StatusQuery.from_inputs(query=query_text)
    records = []
    for record in records_in(data_of(fetch(query), query.to_params()), "status/search 'data'"):
        if _MISSPELT in record:
            value = record.pop(_MISSPELT)
            record.setdefault(_SPELT, value)
        records.append(record)
    return records


def load(table: str, fetch: Fetch, **options: Any) -> list[dict[str, Any]]:
    """Return a whole lookup table.

    :param table: ``users``, ``campaigns``, ``lists`` or ``statuses``.
    :param fetch: sends a query, returns the decoded answer (``ConvosoHook.fetch_payload``).
    :param options: ``user`` for users, ``query`` for statuses.
    :return: the table's records.
    :raises ConvosoInputError: an unknown table or an option the table does not take.
    """
    allowed = {"users": {"user"}, "statuses": {"query"}}.get(table, set())
    if table not in SCHEMAS:
        raise ConvosoInputError(f"table must be one of {', '.join(SCHEMAS)}, got {table!r}")
    extra = sorted(name for name, value in options.items() if value is not None and name not in allowed)
    if extra:
        raise ConvosoInputError(f"the {table} table takes no {', '.join(extra)}")
    if table == "users":
        return list(iter_users(fetch, options.get("user")))
    if table == "campaigns":
        return load_campaigns(fetch)
    if table == "lists":
        return load_lists(fetch)
    return load_statuses(fetch, options.get("query") or "")
