"""Agent scoring against the contract's reference thresholds (pure module)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_convoso.endpoints.agent_performance.scoring import (
    Thresholds,
    derive_metrics,
    format_table,
    outliers,
    score_agent,
    summarize,
)

AGENT = {
    "user_id": "12345",
    "name": "Jane Smith",
    "calls": 45,
    "human_answered": 38,
    "talk_sec_pt": 65.5,
    "wrap_sec_pt": 7.0,
    "talk_sec": "09:45:30",
    "total_time": "15:00:50",
    "talk_seconds": 35130,
    "total_seconds": 54050,
}


def test_derived_metrics() -> None:
    metrics = derive_metrics(AGENT)
    assert metrics["calls_per_hour"] == pytest.approx(45 / (54050 / 3600))
    assert metrics["human_answered_rate"] == pytest.approx(38 / 45 * 100)
    assert metrics["avg_talk_seconds"] == pytest.approx(35130 / 45)


def test_zero_denominators_give_none() -> None:
    metrics = derive_metrics({**AGENT, "calls": 0, "total_seconds": 0, "total_time": "00:00:00"})
    assert metrics == {"calls_per_hour": None, "human_answered_rate": None, "avg_talk_seconds": None}
    assert derive_metrics({}) == {"calls_per_hour": None, "human_answered_rate": None, "avg_talk_seconds": None}


def test_verdicts_against_default_and_overridden_thresholds() -> None:
    score = score_agent(AGENT)["metrics"]
    assert score["talk_pct"]["verdict"] == "within"
    assert score["human_answered_rate"]["verdict"] == "above"  # 84.4 % > 80 %
    assert score["calls_per_hour"]["verdict"] == "below"  # 3.0 < 6
    assert score["avg_talk_minutes"]["verdict"] == "above"  # 13 min > 8
    assert score["wrap_pct"]["verdict"] == "within"
    relaxed = score_agent(AGENT, Thresholds(calls_per_hour=(2, 4), avg_talk_minutes=(10, 15)))["metrics"]
    assert relaxed["calls_per_hour"]["verdict"] == relaxed["avg_talk_minutes"]["verdict"] == "within"
    with pytest.raises(ValueError, match="talk_pct has low 70 above high 50"):
        Thresholds(talk_pct=(70, 50))


def test_summary_outliers_and_table() -> None:
    scores = [score_agent(AGENT), score_agent({"user_id": "2", "name": "Zero", "calls": 0})]
    summary = summarize(scores)
    assert summary["calls_per_hour"] == {"below": 1, "within": 0, "above": 0, "unknown": 1}
    assert outliers(scores) == [
        {
            "user_id": "12345",
            "name": "Jane Smith",
            "outside": {"human_answered_rate": "above", "calls_per_hour": "below", "avg_talk_minutes": "above"},
        }
    ]
    table = format_table(scores)
    assert "Jane Smith (12345)" in table and "3.0 v" in table and "n/a" in table


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["calls", "human_answered", "talk_sec_pt", "wrap_sec_pt", "talk_seconds", "total_seconds"]),
        st.one_of(
            st.none(),
            st.integers(min_value=0, max_value=10**9),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
            st.text(max_size=5),
        ),
    )
)
def test_scoring_never_raises_on_odd_records(record: dict) -> None:
    score = score_agent(record)
    assert set(score["metrics"]) == {
        "talk_pct",
        "human_answered_rate",
        "calls_per_hour",
        "avg_talk_minutes",
        "wrap_pct",
    }
