"""The records digest (order-independent, batch-built) and the settling state machine."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_convoso.digest import RecordDigest
from airflow_provider_convoso.endpoints.agent_performance.settle import Settling

_RECORDS = st.lists(
    st.fixed_dictionaries(
        {"user_id": st.text(max_size=8), "calls": st.integers(0, 10**6)},
        optional={"talk_sec_pt": st.floats(0, 100), "name": st.text(max_size=20), "x": st.none()},
    ),
    max_size=40,
)


def _digest(records: list[dict[str, Any]]) -> str:
    return RecordDigest().add_all(records).hexdigest()


@given(_RECORDS, st.randoms(use_true_random=False))
def test_digest_ignores_order(records: list[dict[str, Any]], random: Any) -> None:
    shuffled = list(records)
    random.shuffle(shuffled)
    assert _digest(shuffled) == _digest(records)


@given(_RECORDS, st.integers(1, 2048))
def test_digest_from_lines_or_batches_of_any_size(records: list[dict[str, Any]], size: int) -> None:
    from_lines = RecordDigest()
    from_batches = RecordDigest()
    encoder = msgspec.json.Encoder()
    for start in range(0, len(records), size):
        batch = records[start : start + size]
        from_lines.add_lines(encoder.encode_lines(batch))
        from_batches.add_batch(batch)
    assert from_lines.hexdigest() == from_batches.hexdigest() == _digest(records)
    assert from_lines.rows == from_batches.rows == len(records)


@given(_RECORDS.filter(bool), st.data())
def test_digest_sees_any_change(records: list[dict[str, Any]], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(records) - 1))
    changed = [dict(record) for record in records]
    changed[index]["calls"] += data.draw(st.integers(1, 10**6))
    assert _digest(changed) != _digest(records)
    assert _digest(records[:-1]) != _digest(records)  # a row fewer
    assert _digest([*records, records[0]]) != _digest(records)  # a row repeated


def test_digest_shape() -> None:
    empty = RecordDigest().hexdigest()
    assert len(empty) == 16 and int(empty, 16) >= 0
    assert _digest([{"a": 1}]) != empty
    assert _digest([{"a": 1}]) == _digest([{"a": 1}])


# -- settling -------------------------------------------------------------------------


def test_one_poll_is_enough_by_default() -> None:
    settling = Settling()
    assert not settling.active
    assert settling.observe(enough_rows=False, digest="a", now=0) is False
    assert settling.observe(enough_rows=True, digest="a", now=1) is True


def test_settle_polls_counts_the_same_digest_in_a_row() -> None:
    settling = Settling(polls=3)
    verdicts = [settling.observe(enough_rows=True, digest=d, now=n) for n, d in enumerate("aabbbb")]
    assert verdicts == [False, False, False, False, True, True]
    assert settling.observe(enough_rows=False, digest="b", now=9) is False  # too few rows: over again
    assert settling.observe(enough_rows=True, digest="b", now=10) is False


def test_settle_for_counts_time_since_the_digest_first_appeared() -> None:
    settling = Settling(seconds=60)
    assert settling.observe(enough_rows=True, digest="a", now=100) is False
    assert settling.observe(enough_rows=True, digest="a", now=159) is False
    assert settling.observe(enough_rows=True, digest="b", now=161) is False  # changed: the clock restarts
    assert settling.observe(enough_rows=True, digest="b", now=220) is False
    assert settling.observe(enough_rows=True, digest="b", now=221) is True
    assert settling.progress(221) == "same data on 3 of 1 polls, for 60s of 60s"


def test_both_must_hold() -> None:
    settling = Settling(polls=3, seconds=10)
    assert [settling.observe(enough_rows=True, digest="a", now=n) for n in (0, 20, 21)] == [False, False, True]
    settling = Settling(polls=3, seconds=10)
    assert [settling.observe(enough_rows=True, digest="a", now=n) for n in (0, 1, 2, 11)] == [False] * 3 + [True]


def test_state_round_trip_and_bad_state() -> None:
    first = Settling(polls=2)
    first.observe(enough_rows=True, digest="a", now=5)
    second = Settling(polls=2).resume(first.state())
    assert second.observe(enough_rows=True, digest="a", now=6) is True
    for bad in (
        None,
        [],
        {"digest": 3},
        {"digest": "a", "since": "x", "seen": 1},
        {"digest": "a", "since": 1, "seen": 0},
    ):
        fresh = Settling(polls=2).resume(bad)  # type: ignore[arg-type]
        assert fresh.observe(enough_rows=True, digest="a", now=6) is False


@pytest.mark.parametrize("polls", [0, -1, True, 1.5, "2"])
def test_bad_settle_polls(polls: Any) -> None:
    with pytest.raises(ValueError, match="settle_polls"):
        Settling(polls=polls)


@pytest.mark.parametrize("seconds", [-1, float("nan"), True, "5"])
def test_bad_settle_for(seconds: Any) -> None:
    with pytest.raises(ValueError, match="settle_for"):
        Settling(seconds=seconds)
