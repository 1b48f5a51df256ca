"""Call logs' pages and records: reading a page, its ids, typing a record, the spooled rows.

Pure: no Airflow, no httpx.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from airflow_provider_convoso.endpoints.call_logs.query import FILTER_ERROR_CODES
from airflow_provider_convoso.exceptions import ConvosoResponseError
from airflow_provider_convoso.tables import Column, Table
from airflow_provider_convoso.wire.envelope import count_of, data_of, decode_json, records_in, snippet
from airflow_provider_convoso.wire.paging import unique_by_id

#: Dialer pseudo-agents: rows no agent handled. Kept, flagged with ``is_system_user``.
SYSTEM_USER_IDS = frozenset({"666666", "666667", "666671"})


#: Fields that hold ids: strings, so they join with the lookup tables.
ID_FIELDS = ("id", "lead_id", "list_id", "campaign_id", "user_id", "queue_id", "originating_agent_id")


INT_FIELDS = ("call_length", "called_count", "queue_position")


FLOAT_FIELDS = ("queue_seconds",)


#: The CSV/Parquet columns, every field the service is known to send first (a field outside
#: them gets a column after these, sorted, at the cost of a second pass over the pages).
COLUMNS: tuple[str, ...] = (
    "id",
    "call_date",
    "user_id",
    "user",
    "is_system_user",
    "campaign_id",
    "campaign",
    "list_id",
    "lead_id",
    "status",
    "status_name",
    "call_length",
    "term_reason",
    "call_type",
    "phone_number",
    "number_dialed",
    "first_name",
    "last_name",
    "called_count",
    "queue_id",
    "queue_position",
    "queue_seconds",
    "caller_id_displayed",
    "originating_agent_id",
    "agent_comment",
    "recording",
)

#: The published table: one row per call.
TABLE = Table(
    "call_logs",
    columns=tuple(
        Column(
            name,
            "int"
            if name in INT_FIELDS
            else "float"
            if name in FLOAT_FIELDS
            else "bool"
            if name == "is_system_user"
            else "json"
            if name == "recording"
            else "string",
        )
        for name in COLUMNS
    ),
    key=("id",),
)


@dataclasses.dataclass(frozen=True)
class Page:
    """One answer of ``log/retrieve``: its rows and what it says about the window."""

    rows: list[dict[str, Any]]
    total_found: int
    limit: int | None


def read_page(payload: Any, params: Mapping[str, str] | None = None) -> Page:
    """Return the rows, ``total_found`` and echoed ``limit`` of one answer.

    ``data.results`` holds the rows; ``total_found``, ``limit`` and ``offset`` may be
    numbers or strings. A successful answer without ``data`` or ``results`` (or with
    ``null``, ``[]`` or ``{}``) has no rows.

    :param payload: the decoded answer.
    :param params: the request's parameters, to name a rejected filter.
    :return: the page.
    """
    data = data_of(payload, params, FILTER_ERROR_CODES)
    if data is None or data in ({}, []):
        results = payload.get("results") if isinstance(payload, Mapping) else None
        if results in (None, [], {}):
            return Page([], 0, None)
        data = {"results": results}
    if not isinstance(data, Mapping):
        raise ConvosoResponseError(f"log/retrieve 'data' is a JSON {type(data).__name__}, not an object")
    rows = records_in(data.get("results"), "log/retrieve 'results'")
    total = count_of(data.get("total_found", len(rows)), "total_found")
    limit = data.get("limit")
    return Page(rows, total, count_of(limit, "limit") if limit not in (None, "") else None)


class _IdRow(msgspec.Struct):
    id: Any = None


class _IdData(msgspec.Struct):
    results: list[_IdRow] | None = None
    total_found: Any = None


class _IdEnvelope(msgspec.Struct):
    success: Any = None
    data: _IdData | None = None


_decode_ids = msgspec.json.Decoder(_IdEnvelope).decode


def page_ids(content: bytes, params: Mapping[str, str] | None = None) -> tuple[list[str], int]:
    """Return the ids of a page's rows and its ``total_found``, without decoding the rows.

    The reader needs only these while it pages; the rows are decoded once, when written.
    An answer that is not a plain successful page (an error, ``results`` as an object,
    a row that is not an object) is read whole by :func:`read_page`, which gives the
    same figures or the error.

    :param content: the answer's body.
    :param params: the request's parameters, for an error message.
    :return: ``(ids, total_found)``.
    """
    try:
        envelope = _decode_ids(content)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        envelope = None
    if envelope is not None and envelope.success is True and envelope.data is not None:
        rows = envelope.data.results or []
        total = envelope.data.total_found
        return [str(row.id) for row in rows], count_of(len(rows) if total is None else total, "total_found")

    page = read_page(decode_json(content), params)
    return [str(row.get("id")) for row in page.rows], page.total_found


def _id(value: Any) -> str | None:
    if value is None or value == "":
        return None if value is None else ""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise ConvosoResponseError(f"an id is a JSON {type(value).__name__}: {snippet(repr(value), 40)}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ConvosoResponseError(f"an id is not a whole number: {value!r}")
        value = int(value)
    return str(value).strip()


def _number(field: str, value: Any, kind: type) -> Any:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError):
        raise ConvosoResponseError(f"call-log field {field!r} is not a number: {snippet(repr(value), 40)}") from None
    if kind is int:
        if not number.is_integer():
            raise ConvosoResponseError(f"call-log field {field!r} is not a whole number: {snippet(repr(value), 40)}")
        return int(number)
    return number


def type_call_log(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return a typed copy of one call-log record.

    Ids become strings; ``call_length``, ``called_count`` and ``queue_position`` integers;
    ``queue_seconds`` a float; empty strings in those numeric fields ``None``. Times stay
    the account-local text the service sent. ``is_system_user`` marks the dialer's
    pseudo-agents (666666, 666667, 666671). Unknown fields pass through.

    :param raw: the record as sent.
    :return: the typed record.
    """
    record = dict(raw)
    for field in ID_FIELDS:
        if field in record:
            record[field] = _id(record[field])
    for field in INT_FIELDS:
        if field in record:
            record[field] = _number(field, record[field], int)
    for field in FLOAT_FIELDS:
        if field in record:
            record[field] = _number(field, record[field], float)
    record["is_system_user"] = record.get("user_id") in SYSTEM_USER_IDS
    return record


def spooled_records(spool: Any, dropped: list[int]) -> Iterator[dict[str, Any]]:
    """Yield the typed rows of every spooled page, in window and offset order, each ``id`` once.

    :param spool: a :class:`~airflow_provider_convoso.spool.BodySpool` of page bodies.
    :param dropped: ``dropped[0]`` is set to the number of repeated rows left out.
    :return: the records.
    """
    dropped[0] = 0
    rows = (row for _, body in spool.items() for row in read_page(decode_json(body)).rows)
    yield from unique_by_id(map(type_call_log, rows), dropped)
