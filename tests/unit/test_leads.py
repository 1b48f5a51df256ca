"""The leads domain: a page's keys, typing a lead, custom fields, and the export's completeness.

The completeness property runs the reader against a model of the service (a table ordered
by update time, paged as ``leads/search`` pages it) that updates leads between pages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import zoneinfo
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_convoso.endpoints.leads.query import LeadsQuery
from airflow_provider_convoso.endpoints.leads.reader import read_changes
from airflow_provider_convoso.endpoints.leads.records import (
    check_custom_fields,
    page_keys,
    read_page,
    spooled_leads,
    type_lead,
)
from airflow_provider_convoso.exceptions import (
    ConvosoInputError,
    ConvosoInvalidFilterError,
    ConvosoOffsetError,
    ConvosoResponseError,
)
from airflow_provider_convoso.spool import BodySpool
from airflow_provider_convoso.wire.local_time import LOCAL_FORMAT

LOG = logging.getLogger("test")
START = dt.datetime(2026, 3, 2)


def _time(second: int) -> str:
    return (START + dt.timedelta(seconds=second)).strftime(LOCAL_FORMAT)


class Table:
    """leads/search in miniature: leads ordered by (update time, id), updates between pages.

    ``moves`` lists the leads to update before each page after the first (one list per
    page); an updated lead gets the clock's next second: after every time so far, and after
    ``now`` (the second the export started at).
    """

    def __init__(self, seconds: list[int], moves: list[list[int]], offset_cap: int = 0, now: int = 0) -> None:
        self.times = {str(1000 + i): second for i, second in enumerate(seconds)}
        self.clock = max([*seconds, now])
        self.moves = list(moves)
        self.offset_cap = offset_cap
        self.requests = 0

    def fetch(self, query: LeadsQuery) -> bytes:
        self.requests += 1
        if self.requests > 1 and self.moves:
            for index in self.moves.pop(0):
                key = str(1000 + index)
                if key in self.times:
                    self.clock += 1
                    self.times[key] = self.clock
        if self.offset_cap and query.offset > self.offset_cap:
            return json.dumps({"success": False, "code": 7231, "text": "Invalid offset value"}).encode()
        start, end = query.updated_at_start_date, query.updated_at_end_date
        window = sorted((t, i) for i, t in self.times.items() if start <= _time(t) <= end)
        chosen = window[query.offset : query.offset + query.limit]
        entries = [{"id": i, "lead_id": i, "updated_at": _time(t)} for t, i in chosen]
        body = {
            "success": True,
            "data": {"offset": query.offset, "limit": str(query.limit), "total": str(len(window)), "entries": entries},
        }
        return json.dumps(body).encode()


def _read(fetch: Any, query: LeadsQuery, spool: BodySpool, **options: Any) -> Any:
    async def afetch(page_query: LeadsQuery) -> bytes:
        return fetch(page_query)

    return asyncio.run(read_changes(afetch, query, spool, log=LOG, **options))


def _export(table: Table, end: str, limit: int) -> tuple[dict[str, str], Any]:
    query = LeadsQuery.from_inputs(updated_at_start_date=_time(0), updated_at_end_date=end, limit=limit)
    with BodySpool(on_disk=False) as spool:
        stats = _read(table.fetch, query, spool, max_pages=10_000)
        dropped = [0]
        leads = list(spooled_leads(spool, stats.last_page, zoneinfo.ZoneInfo("UTC"), {}, dropped))
    ids = [lead["id"] for lead in leads]
    assert len(ids) == len(set(ids)), "each lead once"
    return {lead["id"]: lead["updated_at"] for lead in leads}, stats


@given(
    seconds=st.lists(st.integers(0, 40), min_size=0, max_size=120),
    moves=st.lists(st.lists(st.integers(0, 119), max_size=6), max_size=30),
    limit=st.integers(1, 25),
    open_ended=st.booleans(),
)
def test_the_export_holds_every_lead_in_the_window_at_its_end_once_at_its_newest(
    seconds: list[int], moves: list[list[int]], limit: int, open_ended: bool
) -> None:
    # Leads share seconds (up to 120 leads over 41 seconds), pages are small, and leads move
    # between pages: to after the window (a nightly export, run after the window's end) or
    # into its tail (an open one, whose end is still to come).
    table = Table(seconds, moves, now=0 if open_ended else 41)
    end = _time(10_000) if open_ended else _time(40)
    got, _ = _export(table, end, limit)
    truth = {i: _time(t) for i, t in table.times.items() if _time(t) <= end}
    assert {i: got.get(i) for i in truth} == truth


def test_plain_offset_paging_would_skip_leads_the_keyset_reads() -> None:
    # The property above is only worth something if the updates hurt a plain reader.
    seconds = list(range(100))
    table = Table(seconds, [[0, 1, 2]] * 10)
    skipped = set()
    offset, seen = 0, set()
    while True:
        query = LeadsQuery.from_inputs(
            updated_at_start_date=_time(0), updated_at_end_date=_time(99), limit=10, offset=offset
        )
        ids, _, total = page_keys(table.fetch(query))
        seen.update(ids)
        offset += len(ids)
        if not ids or offset >= total:
            break
    skipped = {i for i, t in table.times.items() if t <= 99} - seen
    assert skipped
    got, _ = _export(Table(seconds, [[0, 1, 2]] * 10), _time(99), 10)
    assert skipped <= set(got)


def test_a_second_with_more_leads_than_a_page_is_read_by_offset_and_again_when_it_moves() -> None:
    # 30 leads in one second, pages of 10: the second is paged by offset; a lead of it
    # updated mid-pass makes the pass read again.
    table = Table([5] * 30 + [6, 7], [[], [], [0]])  # lead 0 moves before the offset-10 page
    got, stats = _export(table, _time(100), 10)
    assert stats.crowded_seconds == 1 and stats.re_reads == 1
    assert set(got) == set(table.times) and got["1000"] == _time(table.times["1000"])


def test_a_crowded_second_past_the_offset_cap_is_a_clear_error() -> None:
    table = Table([5] * 50, [], offset_cap=20)
    with pytest.raises(ConvosoResponseError, match=r"more leads were updated at 2026-03-02 00:00:05 .*add a filter"):
        _export(table, _time(100), 10)


def test_an_answer_out_of_update_order_or_outside_the_window_is_refused() -> None:
    def answer(entries: list[dict[str, str]], total: int) -> Any:
        return lambda query: json.dumps({"success": True, "data": {"total": str(total), "entries": entries}}).encode()

    query = LeadsQuery.from_inputs(updated_at_start_date=_time(0), updated_at_end_date=_time(50), limit=2)
    late, early = {"id": "1", "updated_at": _time(9)}, {"id": "2", "updated_at": _time(3)}
    with BodySpool(on_disk=False) as spool, pytest.raises(ConvosoResponseError, match="ascending update order"):
        _read(answer([late, early], 5), query, spool)
    outside = {"id": "3", "updated_at": _time(51)}
    with BodySpool(on_disk=False) as spool, pytest.raises(ConvosoResponseError, match="outside"):
        _read(answer([early, outside], 5), query, spool)
    with BodySpool(on_disk=False) as spool, pytest.raises(ConvosoResponseError, match=r"reported 5 leads .* sent none"):
        _read(answer([], 5), query, spool)


def test_page_keys_and_read_page_read_string_totals_and_errors() -> None:
    body = {"success": True, "data": {"offset": "0", "limit": 2000, "total": "2", "entries": [
        {"id": "7", "updated_at": _time(1)}, {"id": 8, "updated_at": _time(2)}]}}  # fmt: skip
    assert page_keys(json.dumps(body).encode()) == (["7", "8"], [_time(1), _time(2)], 2)
    assert read_page({"success": True, "data": []}) == ([], 0)
    with pytest.raises(ConvosoOffsetError):
        page_keys(b'{"success": false, "code": 7231, "text": "Invalid offset value"}')
    with pytest.raises(ConvosoInvalidFilterError, match="limit"):
        page_keys(b'{"success": false, "code": 7230, "text": "Invalid limit value"}', {"limit": "5000"})
    with pytest.raises(ConvosoResponseError, match="no usable updated_at"):
        page_keys(b'{"success": true, "data": {"total": "1", "entries": [{"id": "1", "updated_at": ""}]}}')
    with pytest.raises(ConvosoResponseError, match="no usable id"):
        page_keys(b'{"success": true, "data": {"total": "1", "entries": [{"updated_at": "2026-03-02 00:00:00"}]}}')


def test_a_lead_is_typed_with_utc_companions_and_custom_fields_renamed() -> None:
    raw = {
        "id": "501", "lead_id": "501", "list_id": "1001", "user_id": "", "called_count": "3",
        "called_count_inbound": "", "created_at": "2026-03-08 01:30:00", "updated_at": "2026-03-08 03:30:00",
        "last_called": "0000-00-00 00:00:00", "field_81": "2026-03-09 10:30:00", "field_9": "x", "state": "OR",
    }  # fmt: skip
    lead = type_lead(raw, zoneinfo.ZoneInfo("America/Los_Angeles"), {"field_81": "appointment_at"})
    assert lead["id"] == lead["lead_id"] == "501" and lead["user_id"] is None
    assert lead["called_count"] == 3 and lead["called_count_inbound"] is None
    # 2026-03-08 is the spring-forward day in Los Angeles: PST before 02:00, PDT after.
    assert lead["created_at_utc"] == dt.datetime(2026, 3, 8, 9, 30, tzinfo=dt.timezone.utc)
    assert lead["updated_at_utc"] == dt.datetime(2026, 3, 8, 10, 30, tzinfo=dt.timezone.utc)
    assert lead["updated_at"] == "2026-03-08 03:30:00"
    assert lead["last_called"] is None and lead["last_called_utc"] is None
    assert lead["appointment_at"] == "2026-03-09 10:30:00" and "field_81" not in lead and lead["field_9"] == "x"
    with pytest.raises(ConvosoResponseError, match="called_count"):
        type_lead({**raw, "called_count": "three"}, zoneinfo.ZoneInfo("UTC"), {})
    with pytest.raises(ConvosoResponseError, match="updated_at"):
        type_lead({**raw, "updated_at": "yesterday"}, zoneinfo.ZoneInfo("UTC"), {})


@pytest.mark.parametrize(
    "mapping",
    [
        {"custom_81": "x"},
        {"field_81": "not a name"},
        {"field_81": "status"},
        {"field_1": "a", "field_2": "a"},
        {"field_1": "field_2"},
        ["field_1"],
    ],
)
def test_custom_fields_that_would_break_the_table_are_refused(mapping: Any) -> None:
    with pytest.raises(ConvosoInputError):
        check_custom_fields(mapping)


def test_the_query_sends_the_window_as_local_text_and_the_documented_limit() -> None:
    query = LeadsQuery.from_inputs(
        updated_at_start_date=dt.datetime(2026, 3, 2, 0, 0), updated_at_end_date="2026-03-02 23:59:59", list_id=1001
    )
    assert query.to_params() == {
        "updated_at_start_date": "2026-03-02 00:00:00",
        "updated_at_end_date": "2026-03-02 23:59:59",
        "list_id": "1001",
        "limit": "2000",
        "offset": "0",
    }
    with pytest.raises(ConvosoInputError, match="later than"):
        LeadsQuery.from_inputs(updated_at_start_date="2026-03-03 00:00:00", updated_at_end_date="2026-03-02 00:00:00")
    with pytest.raises(ConvosoInputError, match="one value"):
        LeadsQuery.from_inputs(updated_at_start_date=_time(0), updated_at_end_date=_time(1), status="A,B")
    with pytest.raises(ConvosoInputError, match="at most 2000"):
        LeadsQuery.from_inputs(updated_at_start_date=_time(0), updated_at_end_date=_time(1), limit=5000)
