"""Lead pages and records: a page's keys for paging, typing a lead, renaming custom fields.

Pure: no Airflow, no httpx. Every value of a lead comes as a string; ``data.total`` is a
string; ``offset``/``limit`` may be either.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from airflow_provider_convoso.endpoints.leads.query import FILTER_ERROR_CODES
from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoResponseError
from airflow_provider_convoso.tables import Column, Table
from airflow_provider_convoso.wire.envelope import count_of, data_of, decode_json, records_in, snippet
from airflow_provider_convoso.wire.local_time import aware
from airflow_provider_convoso.wire.paging import IdMap

#: Fields that hold ids: strings, so they join with the call logs and lookup tables.
ID_FIELDS = ("id", "lead_id", "list_id", "user_id", "owner_id", "created_by", "last_modified_by")

INT_FIELDS = ("called_count", "called_count_inbound")

#: Account-local times: kept as text, each with an aware UTC companion ``<field>_utc``.
TIME_FIELDS = ("created_at", "updated_at", "last_called")

#: The columns of the written table: the fields public code reads, companions beside their
#: times. Custom fields (``field_N``, or their ``custom_fields`` names) and any other field
#: follow, sorted.
COLUMNS: tuple[str, ...] = (
    "id",
    "lead_id",
    "created_at",
    "created_at_utc",
    "updated_at",
    "updated_at_utc",
    "list_id",
    "directory_name",
    "campaign_name",
    "status",
    "status_name",
    "user_id",
    "user_name",
    "owner_id",
    "created_by",
    "last_modified_by",
    "first_name",
    "last_name",
    "phone_number",
    "alt_phone_1",
    "alt_phone_2",
    "email",
    "address1",
    "address2",
    "city",
    "state",
    "province",
    "postal_code",
    "country",
    "gender",
    "date_of_birth",
    "called_count",
    "called_count_inbound",
    "last_called",
    "last_called_utc",
    "carrier_name",
    "carrier_type",
)

#: The published table: one row per lead, its newest copy. Custom fields follow, sorted
#: (``ddl("leads", dialect, extra_columns=...)`` adds them).
TABLE = Table(
    "leads",
    columns=tuple(
        Column(
            name,
            "int" if name in INT_FIELDS else "timestamp" if name.endswith("_utc") else "string",
        )
        for name in COLUMNS
    ),
    key=("id",),
)

_CUSTOM_FIELD_RE = re.compile(r"field_\d+")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def check_custom_fields(custom_fields: Mapping[str, str] | None) -> dict[str, str]:
    """Check a ``field_N`` -> column name mapping before any request.

    :param custom_fields: e.g. ``{"field_81": "appointment_at"}``.
    :return: the mapping as a plain dict.
    :raises ConvosoInputError: a key that is not ``field_N``, a name that is not a plain
        column name, a name twice, or one that would hide a lead field.
    """
    if custom_fields is None:
        return {}
    if not isinstance(custom_fields, Mapping):
        raise ConvosoInputError(f"custom_fields must be a mapping of field_N to a name, got {custom_fields!r}")
    taken = set(COLUMNS)
    names: dict[str, str] = {}
    for key, name in custom_fields.items():
        if not isinstance(key, str) or not _CUSTOM_FIELD_RE.fullmatch(key):
            raise ConvosoInputError(f"custom_fields keys are the account's field_N columns, got {key!r}")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise ConvosoInputError(f"custom_fields[{key!r}] must be a plain column name, got {name!r}")
        if name in taken or name in names.values() or (_CUSTOM_FIELD_RE.fullmatch(name) and name != key):
            raise ConvosoInputError(f"custom_fields[{key!r}] = {name!r} would hide another column")
        names[key] = name
    return names


def read_page(payload: Any, params: Mapping[str, str] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Return the leads of one answer and the ``total`` of its window.

    ``data.entries`` holds the leads and ``data.total`` (a string) counts the window; an
    answer with no ``data``, or with ``null``, ``[]`` or ``{}``, has no leads.

    :param payload: the decoded answer.
    :param params: the request's parameters, to name a rejected one.
    :return: ``(leads, total)``.
    """
    data = data_of(payload, params, FILTER_ERROR_CODES)
    if data is None or data in ({}, []):
        return [], 0
    if not isinstance(data, Mapping):
        raise ConvosoResponseError(f"leads/search 'data' is a JSON {type(data).__name__}, not an object")
    rows = records_in(data.get("entries"), "leads/search 'entries'")
    return rows, count_of(data.get("total", len(rows)), "leads/search total")


class _KeyRow(msgspec.Struct):
    id: str | int
    updated_at: str


class _KeyData(msgspec.Struct):
    entries: list[_KeyRow] | None = None
    total: str | int | None = None


class _KeyEnvelope(msgspec.Struct):
    success: bool
    data: _KeyData | None = None


_decode_keys = msgspec.json.Decoder(_KeyEnvelope).decode


def page_keys(content: bytes, params: Mapping[str, str] | None = None) -> tuple[list[str], list[str], int]:
    """Return the ids and update times of a page's leads, and its ``total``, without typing them.

    The export needs only these while it pages; the leads are typed once, when written. An
    answer that is not a plain successful page (an error, a lead without a text id or update
    time) is read whole by :func:`read_page`, which gives the same figures or the error.

    :param content: the answer's body.
    :param params: the request's parameters, for an error message.
    :return: ``(ids, updated_at values, total)``.
    """
    try:
        envelope = _decode_keys(content)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        envelope = None
    if envelope is not None and envelope.success is True and envelope.data is not None:
        rows = envelope.data.entries or []
        ids = [row.id.strip() if type(row.id) is str else str(row.id) for row in rows]
        times = [row.updated_at for row in rows]
        if "" not in ids and all(len(when) == 19 for when in times):
            total = envelope.data.total
            return ids, times, count_of(len(rows) if total is None else total, "leads/search total")
    leads, total = read_page(decode_json(content), params)
    ids, times = [], []
    for lead in leads:
        lead_id, updated = lead.get("id"), lead.get("updated_at")
        if not isinstance(lead_id, str | int) or isinstance(lead_id, bool) or str(lead_id).strip() == "":
            raise ConvosoResponseError(f"a lead has no usable id: {snippet(repr(lead_id), 40)}")
        if not isinstance(updated, str) or len(updated) != 19:
            raise ConvosoResponseError(f"lead {lead_id} has no usable updated_at: {snippet(repr(updated), 40)}")
        ids.append(str(lead_id).strip())
        times.append(updated)
    return ids, times, total


def _count(field: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit():
        raise ConvosoResponseError(f"lead field {field!r} is not a count: {snippet(repr(value), 40)}")
    return int(text)


def _text_id(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConvosoResponseError(f"lead field {field!r} is a JSON {type(value).__name__}: {snippet(repr(value), 40)}")
    return str(value).strip()


def type_lead(raw: Mapping[str, Any], zone: dt.tzinfo, custom_fields: Mapping[str, str]) -> dict[str, Any]:
    """Return a typed copy of one lead.

    Ids become strings (``None`` when empty); ``called_count`` and ``called_count_inbound``
    integers; ``created_at``, ``updated_at`` and ``last_called`` stay the account-local text
    (``None`` for empty or MySQL's zero date) and gain ``<field>_utc``, the aware instant.
    ``custom_fields`` renames the account's ``field_N`` columns; unmapped ones and unknown
    fields pass through.

    :param raw: the lead as sent.
    :param zone: the account's zone.
    :param custom_fields: ``field_N`` -> name.
    :return: the typed lead.
    """
    record = {custom_fields.get(key, key): value for key, value in raw.items()}
    for field in ID_FIELDS:
        if field in record:
            record[field] = _text_id(field, record[field])
    for field in INT_FIELDS:
        if field in record:
            record[field] = _count(field, record[field])
    for field in TIME_FIELDS:
        if field not in record:
            continue
        value = record[field]
        try:
            instant = aware(value, zone)
        except (TypeError, ValueError):
            shown = snippet(repr(value), 40)
            raise ConvosoResponseError(f"lead field {field!r} is not a local time: {shown}") from None
        record[field] = None if instant is None else str(value).strip()
        record[f"{field}_utc"] = instant
    return record


def spooled_leads(
    spool: Any, last_page: IdMap, zone: dt.tzinfo, custom_fields: Mapping[str, str], dropped: list[int]
) -> Iterator[dict[str, Any]]:
    """Yield each lead once, typed, from the read it was last seen in: its newest update.

    :param spool: a :class:`~airflow_provider_convoso.spool.BodySpool` of the export's pages, in read order.
    :param last_page: lead id -> the index of the last page that held it.
    :param zone: the account's zone.
    :param custom_fields: ``field_N`` -> name.
    :param dropped: ``dropped[0]`` is set to the number of older copies left out.
    :return: the leads, in update order.
    """
    dropped[0] = 0
    for index, (_, body) in enumerate(spool.items()):
        leads, _ = read_page(decode_json(body))
        here: set[str] = set()
        for lead in leads:
            key = str(lead.get("id")).strip()
            if last_page.get(key) != index or key in here:
                dropped[0] += 1
                continue
            here.add(key)
            yield type_lead(lead, zone, custom_fields)
