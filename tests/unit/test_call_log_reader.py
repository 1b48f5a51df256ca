"""Reading call-log windows: splitting past the offset cap at once, fetching apart from storing."""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import itertools
import json
import logging
import math
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_convoso.endpoints.call_logs.query import MAX_HALVINGS, MIN_WINDOW, CallLogsQuery, split
from airflow_provider_convoso.endpoints.call_logs.reader import read_windows
from airflow_provider_convoso.endpoints.call_logs.records import page_ids
from airflow_provider_convoso.exceptions import ConvosoResponseError
from airflow_provider_convoso.spool import BodySpool
from airflow_provider_convoso.wire.local_time import LOCAL_FORMAT

LOG = logging.getLogger(__name__)
DAY = dt.datetime(2026, 3, 2)
CAP = CallLogsQuery.OFFSET_CAP + 500


def _time(second: int) -> str:
    return (DAY + dt.timedelta(seconds=second)).strftime(LOCAL_FORMAT)


def _second(text: str) -> int:
    return int((dt.datetime.strptime(text, LOCAL_FORMAT) - DAY).total_seconds())


class Day:
    """log/retrieve in miniature: calls at given seconds of one day, oldest first; every query kept."""

    def __init__(self, seconds: list[int]) -> None:
        self.seconds = sorted(seconds)
        self.queries: list[CallLogsQuery] = []

    def fetch(self, query: CallLogsQuery) -> bytes:
        self.queries.append(query)
        low = bisect.bisect_left(self.seconds, _second(query.start_time))
        high = bisect.bisect_right(self.seconds, _second(query.end_time))
        chosen = range(low + query.offset, min(high, low + query.offset + query.limit))
        results = [{"id": str(10_000_000 + index), "call_date": _time(self.seconds[index])} for index in chosen]
        data = {"offset": query.offset, "limit": query.limit, "total_found": str(high - low), "results": results}
        return json.dumps({"success": True, "data": data}).encode()


def _read(fetch: Any, spool: BodySpool, **options: Any) -> Any:
    async def afetch(page_query: CallLogsQuery) -> bytes:
        return fetch(page_query)

    query = CallLogsQuery.from_inputs(start_time=_time(0), end_time=_time(86_399))
    return asyncio.run(read_windows(afetch, query, spool, log=LOG, **options))


def test_a_day_many_times_the_cap_is_split_into_the_pieces_it_needs_at_once() -> None:
    # 400,000 calls through the day: about ten times what one window can hold.
    seconds = [(n * 86_400) // 400_000 for n in range(400_000)]
    day = Day(seconds)
    with BodySpool(on_disk=False) as spool:
        stats = _read(day.fetch, spool, max_concurrency=8)
        ids = [i for _, body in spool.items() for i in page_ids(body)[0]]
    assert sorted(ids) == [str(10_000_000 + n) for n in range(400_000)]
    first_pages = [(q.start_time, q.end_time) for q in day.queries if q.offset == 0]
    # The day's answer says 400,000: 16 pieces (of 90 minutes) are asked for at once, not
    # the halves and quarters in between; the pieces holding calls are not split again.
    assert first_pages[0] == (_time(0), _time(86_399))
    assert len(first_pages) == 1 + 16 and stats.splits == 1
    assert (_time(0), _time(43_199)) not in first_pages
    assert all(w["total_found"] <= CAP for w in stats.windows)
    assert sum(w["total_found"] for w in stats.windows) == 400_000
    assert max(q.offset for q in day.queries) <= CallLogsQuery.OFFSET_CAP


def test_a_piece_still_too_large_is_split_again_from_its_own_answer() -> None:
    # 100,000 calls from 09:00 to 10:00: each answer over the cap cuts its window in four,
    # until the pieces holding the calls are small enough.
    seconds = [9 * 3600 + (n * 3600) // 100_000 for n in range(100_000)]
    day = Day(seconds)
    with BodySpool(on_disk=False) as spool:
        stats = _read(day.fetch, spool, max_concurrency=4)
    first_pages = [(q.start_time, q.end_time) for q in day.queries if q.offset == 0]
    assert first_pages[:5] == [
        (_time(0), _time(86_399)),
        (_time(0), _time(21_599)),
        (_time(21_600), _time(43_199)),
        (_time(43_200), _time(64_799)),
        (_time(64_800), _time(86_399)),
    ]
    assert stats.splits == 3 and len(first_pages) == 1 + 3 * 4
    assert sum(w["total_found"] for w in stats.windows) == 100_000
    assert all(w["total_found"] <= CAP for w in stats.windows)


@given(
    start=st.integers(0, 86_399 - 120),
    length=st.integers(120, 86_399),
    rows=st.integers(CAP + 1, 10**15),
)
def test_split_covers_its_window_in_time_order_and_stays_bounded(start: int, length: int, rows: int) -> None:
    end = min(86_399, start + length)
    pieces = split(_time(start), _time(end), rows, CAP)
    assert pieces[0][0] == _time(start) and pieces[-1][1] == _time(end)
    for (_, before), (after, _) in itertools.pairwise(pieces):
        assert _second(after) - _second(before) == 1  # they meet at :59/:00
    count = len(pieces)
    assert 2 <= count <= 2**MAX_HALVINGS and count & (count - 1) == 0
    needed = min(2**MAX_HALVINGS, 2 ** math.ceil(math.log2(rows / CAP)))
    # Fewer pieces than the rows need only where one more level would cut under a minute.
    shortest = min(_second(b) - _second(a) for a, b in pieces)
    assert count == needed or shortest < 2 * MIN_WINDOW.total_seconds()


def test_split_refuses_a_window_under_a_minute() -> None:
    with pytest.raises(ConvosoResponseError, match="under a minute"):
        split(_time(0), _time(30), 10**6, CAP)


def test_a_fetcher_asks_for_its_next_page_while_the_last_one_is_stored() -> None:
    """One request in flight: the second page is asked for while the first is being stored."""
    day = Day([36_000 + n for n in range(1_200)])
    storing, asked, stored = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []  # for the second page: was the first page still being stored?

    async def afetch(query: CallLogsQuery) -> bytes:
        if query.offset == 500 and await asyncio.to_thread(storing.wait, 5):
            seen.append(not stored.is_set())
            asked.set()
        return day.fetch(query)

    class SlowSpool(BodySpool):
        def add(self, key: str, content: bytes) -> None:
            if key.endswith("|00000000"):  # the first page: held until the second is asked for
                storing.set()
                asked.wait(5)
                stored.set()
            super().add(key, content)

    query = CallLogsQuery.from_inputs(start_time=_time(0), end_time=_time(86_399))
    with SlowSpool(on_disk=False) as spool:
        stats = asyncio.run(read_windows(afetch, query, spool, log=LOG, max_concurrency=1))
        assert len(spool) == 3
    assert seen == [True]
    assert stats.pages == 3 and stats.windows[0]["total_found"] == 1_200
