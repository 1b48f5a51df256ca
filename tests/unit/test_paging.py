"""wire.paging: offset pages stepped by the rows received, bounded; dedupe by id."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_convoso.exceptions import ConvosoResponseError
from airflow_provider_convoso.wire import paging
from airflow_provider_convoso.wire.paging import IdMap, offset_pages, unique_by_id


@given(rows=st.integers(0, 300), clamp=st.integers(1, 50))
def test_pages_follow_a_server_that_clamps_its_page(rows: int, clamp: int) -> None:
    table = list(range(rows))
    asked: list[int] = []

    def read(offset: int) -> tuple[list[int], int]:
        asked.append(offset)
        return table[offset : offset + clamp], rows

    pages = list(offset_pages(read, max_pages=1000, what="test"))
    assert [row for page, _ in pages for row in page] == table
    assert len(asked) == max(1, math.ceil(rows / clamp))
    assert asked == [index * clamp for index in range(len(asked))]


def test_an_empty_page_ends_paging_before_the_total() -> None:
    answers = {0: ([1, 2], 10), 2: ([], 10)}
    assert [page for page, _ in offset_pages(lambda offset: answers[offset], max_pages=10, what="test")] == [[1, 2], []]


def test_paging_stops_at_the_total_the_last_page_reported() -> None:
    # a row arrives while the pages are read: the second page reports it, and it is read
    answers = {0: ([1, 2], 3), 2: ([3], 4), 3: ([4], 4)}
    pages = list(offset_pages(lambda offset: answers[offset], max_pages=10, what="test"))
    assert [row for page, _ in pages for row in page] == [1, 2, 3, 4]
    assert [total for _, total in pages] == [3, 4, 4]


def test_paging_is_bounded() -> None:
    with pytest.raises(ConvosoResponseError, match="endless still had rows after 3 pages"):
        list(offset_pages(lambda offset: ([offset], offset + 2), max_pages=3, what="endless"))


@given(st.lists(st.integers(0, 20), max_size=60))
def test_unique_by_id_keeps_the_first_of_each_id_and_counts_the_rest(ids: list[int]) -> None:
    dropped = [0]
    records = [{"id": value, "n": index} for index, value in enumerate(ids)]
    kept = list(unique_by_id(records, dropped))
    assert [record["id"] for record in kept] == list(dict.fromkeys(ids))
    assert all(record is records[ids.index(record["id"])] for record in kept)
    assert dropped[0] == len(ids) - len(set(ids))
    assert list(unique_by_id([{"id": 7}, {"id": "7"}], [0])) == [{"id": 7}]  # compared as text


_IDS = st.one_of(
    st.integers(0, 10**18 - 1).map(str),  # kept as integers
    st.sampled_from(["0", "00", "07", "7", "-1", "1e3", " 7", "\u0661", "9" * 19, "", "None", "x"]),  # as text
)


@given(st.lists(st.tuples(_IDS, st.integers(0, 2**40)), max_size=300), st.integers(1, 8))
def test_the_id_map_answers_as_a_dict_of_strings_does(items: list[tuple[str, int]], merge_every: int) -> None:
    original = paging._MIN_RECENT
    paging._MIN_RECENT = merge_every  # merge often, so lookups and updates cross the arrays
    try:
        ids, model = IdMap(), {}
        for key, value in items:
            assert (key in ids) == (key in model), key
            ids[key] = value
            model[key] = value
            assert ids.get(key) == value
        assert len(ids) == len(model)
        assert all(ids.get(key) == value for key, value in model.items())
        assert ids.get("12345678901") == model.get("12345678901")
        assert all(not ids.add(key) for key in model)
        unnumbered = IdMap(numbers=False)
        assert [unnumbered.add(key) for key, _ in items] == [
            key not in dict(items[:i]) for i, (key, _) in enumerate(items)
        ]
        assert len(unnumbered) == len(model) and all(unnumbered.get(key) == 0 for key in model)
    finally:
        paging._MIN_RECENT = original


_MEMORY_PROBE = """
import sys
from airflow_provider_convoso.wire.paging import IdMap

def kib(field):
    # This process's own figures: ru_maxrss would start from the parent's peak.
    return int(next(line for line in open("/proc/self/status") if line.startswith(field)).split()[1])

ids = IdMap(numbers=False) if sys.argv[1] == "ids" else set()
before = kib("VmRSS:")
for number in range(739_000_000_000, 739_001_000_000):
    ids.add(str(number))
print(len(ids), kib("VmHWM:") - before)
"""


def test_a_million_ids_take_well_under_the_memory_of_a_set_of_their_strings() -> None:
    import subprocess
    import sys

    def rise(kind: str) -> int:
        out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, kind], capture_output=True, text=True, check=True)
        count, kib = map(int, out.stdout.split())
        assert count == 1_000_000
        return kib

    ids, strings = rise("ids"), rise("set")
    assert strings > 50_000  # KiB: a million strings and their set, measured
    assert ids < 0.3 * strings
