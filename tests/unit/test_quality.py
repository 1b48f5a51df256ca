"""Data-quality rules: the contract's examples, records built to keep the rules, perturbations."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import CONTRACT_AGENT, format_duration

from airflow_provider_convoso.endpoints.agent_performance.inspection import Inspection
from airflow_provider_convoso.endpoints.agent_performance.quality import (
    RULES,
    QualityReport,
    broken_rules,
    check_tolerances,
)
from airflow_provider_convoso.endpoints.agent_performance.records import normalize_record
from airflow_provider_convoso.exceptions import ConvosoDataQualityError, ConvosoPermanentError

CONTRACT_JANE = CONTRACT_AGENT  # the contract's first example
CONTRACT_JOHN = {
    **CONTRACT_JANE,
    "user_id": "12346",
    "name": "John Doe",
    "calls": 52,
    "human_answered": 47,
    "talk_sec_pt": 72.1,
    "wait_sec_pt": 10.5,
    "pause_sec_pt": 12.3,
    "wrap_sec_pt": 5.1,
    "talk_sec": "11:25:40",
    "wait_sec": "01:39:30",
    "pause_sec": "01:56:25",
    "wrap_sec": "00:48:10",
    "total_time": "15:50:05",
    "am": 3,
    "others": 2,
    "am_pt": 5.8,
    "others_pt": 3.8,
}


def _report(records: list[dict[str, Any]], **tolerances: float) -> QualityReport:
    report = QualityReport(tolerances)
    report.add_batch(records)
    return report


def test_contract_examples() -> None:
    # The first example keeps every rule (its talk_sec_pt is 0.5 points off: inside 1 point);
    # the second's parts are 20 s short of its total_time, which the default 5 s flags.
    assert broken_rules(normalize_record(CONTRACT_JANE)) == []
    assert broken_rules(normalize_record(CONTRACT_JOHN)) == ["time_parts_sum_to_total"]
    assert broken_rules(normalize_record(CONTRACT_JOHN), {"time_parts_sum_to_total": 20}) == []
    assert broken_rules(normalize_record(CONTRACT_JANE), {"talk_sec_pt_of_total": 0.4}) == ["talk_sec_pt_of_total"]


def test_worked_example_of_the_contract() -> None:
    # "Total 15:00:00, talk 10:00:00, wait 2:00:00, pause 2:00:00, wrap 1:00:00 -> 66.7/13.3/13.3/6.7%"
    record = {
        **CONTRACT_JANE,
        "total_time": "15:00:00",
        "talk_sec": "10:00:00",
        "wait_sec": "2:00:00",
        "pause_sec": "2:00:00",
        "wrap_sec": "1:00:00",
        "talk_sec_pt": 66.7,
        "wait_sec_pt": 13.3,
        "pause_sec_pt": 13.3,
        "wrap_sec_pt": 6.7,
    }
    assert broken_rules(normalize_record(record)) == []


def test_live_example_others_is_advisory() -> None:
    # The live help-page example: others == human_answered, am + others == calls.
    record = normalize_record({**CONTRACT_JANE, "calls": 45, "human_answered": 38, "am": 7, "others": 38})
    record["am_pt"], record["others_pt"] = 15.6, 84.4
    report = _report([record])
    assert report.broken() == ["calls_add_up"]
    assert report.broken(failing_only=True) == []


def test_missing_or_null_fields_do_not_apply() -> None:
    record = normalize_record({**CONTRACT_JANE, "total_time": None, "am": None})
    assert broken_rules(record) == []
    report = _report([record])
    summary = report.summary()
    assert summary["checked"] == 1
    assert summary["rules"]["time_parts_sum_to_total"]["applied"] == 0
    assert summary["rules"]["others_pt_of_calls"]["applied"] == 1
    assert report.broken() == []


def test_zero_totals_expect_zero_percent() -> None:
    record = normalize_record(
        {
            **CONTRACT_JANE,
            **dict.fromkeys(("talk_sec", "wait_sec", "pause_sec", "wrap_sec", "total_time"), "00:00:00"),
            **dict.fromkeys(("talk_sec_pt", "wait_sec_pt", "pause_sec_pt", "wrap_sec_pt"), 0.0),
            **dict.fromkeys(("calls", "human_answered", "am", "others"), 0),
            "am_pt": 0.0,
            "others_pt": 0.0,
        }
    )
    assert broken_rules(record) == []
    assert broken_rules({**record, "talk_sec_pt": 3.0}) == ["talk_sec_pt_of_total"]


def test_tolerances_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown quality rule 'nope'"):
        check_tolerances({"nope": 1})
    with pytest.raises(ValueError, match="non-negative"):
        check_tolerances({"calls_add_up": -1})
    with pytest.raises(ValueError, match="non-negative"):
        check_tolerances({"calls_add_up": True})
    assert check_tolerances({"calls_add_up": 2}) == {"calls_add_up": 2.0}


# -- records built to keep the rules --------------------------------------------------


@st.composite
def consistent_records(draw: st.DrawFn) -> dict[str, Any]:
    """A typed record that keeps every rule: percentages rounded to 0.1 as the service does."""
    talk, wait, pause, wrap = (draw(st.integers(0, 40 * 3600)) for _ in range(4))
    total = talk + wait + pause + wrap
    human, am, others = (draw(st.integers(0, 5000)) for _ in range(3))
    calls = human + am + others

    def pct(part: int, whole: int) -> float:
        return round(100.0 * part / whole, 1) if whole else 0.0

    raw = {
        "user_id": str(draw(st.integers(1, 10**6))),
        "calls": calls,
        "human_answered": human,
        "am": am,
        "others": others,
        "am_pt": pct(am, calls),
        "others_pt": pct(others, calls),
        "total_time": format_duration(total),
        **{
            f"{name}_sec": format_duration(value) for name, value in zip(_NAMES, (talk, wait, pause, wrap), strict=True)
        },
        **{f"{name}_sec_pt": pct(value, total) for name, value in zip(_NAMES, (talk, wait, pause, wrap), strict=True)},
    }
    return normalize_record(raw)


_NAMES = ("talk", "wait", "pause", "wrap")


@given(consistent_records())
def test_consistent_records_keep_every_rule(record: dict[str, Any]) -> None:
    assert broken_rules(record) == []
    assert _report([record]).broken() == []


_PERTURBATIONS = {
    "time_parts_sum_to_total": ("total_seconds", 5.0),
    "talk_sec_pt_of_total": ("talk_sec_pt", 1.0),
    "wait_sec_pt_of_total": ("wait_sec_pt", 1.0),
    "pause_sec_pt_of_total": ("pause_sec_pt", 1.0),
    "wrap_sec_pt_of_total": ("wrap_sec_pt", 1.0),
    "am_pt_of_calls": ("am_pt", 1.0),
    "others_pt_of_calls": ("others_pt", 1.0),
    "calls_add_up": ("calls", 0.0),
}


def test_every_rule_has_a_perturbation() -> None:
    assert set(_PERTURBATIONS) == {rule.name for rule in RULES}


@given(
    consistent_records(),
    st.sampled_from(sorted(_PERTURBATIONS)),
    st.floats(0.01, 1000.0),
    st.sampled_from([1, -1]),
)
def test_a_perturbation_beyond_tolerance_is_caught(record: dict[str, Any], rule: str, excess: float, sign: int) -> None:
    field, tolerance = _PERTURBATIONS[rule]
    # A rounded percentage may sit up to 0.05 points from the exact share already.
    slack = 0.05 if field.endswith("_pt") else 0.0
    changed = dict(record)
    if field in ("total_seconds", "calls"):
        step = int(tolerance + excess) + 1
        if sign < 0 and changed[field] < step:
            sign = 1
        changed[field] += sign * step
    else:
        changed[field] = record[field] + sign * (tolerance + slack + excess)
    assert rule in broken_rules(changed)
    assert rule in _report([changed]).broken()


_FIELD_VALUES = st.one_of(st.none(), st.integers(0, 10**6), st.floats(0, 1000, allow_nan=False), st.text(max_size=3))


@given(
    consistent_records(),
    st.dictionaries(
        st.sampled_from(
            [
                "total_seconds",
                "talk_seconds",
                "calls",
                "am",
                "others",
                "talk_sec_pt",
                "am_pt",
                "human_answered",
                "wrap_seconds",
            ]
        ),
        _FIELD_VALUES,
        max_size=4,
    ),
    st.sets(st.sampled_from(["total_seconds", "calls", "talk_sec_pt", "others"]), max_size=2),
)
def test_the_report_agrees_with_the_rules_one_by_one(
    record: dict[str, Any], changes: dict[str, Any], removed: set[str]
) -> None:
    """The report's inline evaluation gives what each Rule says, for numbers, nulls, text and missing fields."""
    changed = {**record, **changes}
    for name in removed:
        changed.pop(name, None)
    report = _report([changed])
    summary = report.summary()["rules"]
    for rule in RULES:
        verdict = rule.holds(changed)
        assert summary[rule.name]["applied"] == (verdict is not None)
        assert summary[rule.name]["broken"] == (verdict is False)
    assert report.broken() == broken_rules(changed)


def test_report_summary_and_lines() -> None:
    good = normalize_record(CONTRACT_JANE)
    bad = [{**good, "user_id": str(n), "calls": good["calls"] + 1} for n in range(8)]
    report = _report([good, *bad])
    summary = report.summary()
    assert summary["checked"] == 9
    calls = summary["rules"]["calls_add_up"]
    assert (calls["broken"], calls["applied"], calls["advisory"]) == (8, 9, True)
    assert calls["examples"] == ["0", "1", "2", "3", "4"]
    assert summary["rules"]["am_pt_of_calls"]["broken"] == 0
    [line] = report.lines()
    assert line.startswith("quality rule calls_add_up (calls = human_answered + am + others, within 0 calls)")
    assert "broken by 8 of 9 records, e.g. user_id 0, 1, 2, 3, 4 (advisory" in line


def test_inspection_fail_mode_raises_a_permanent_error(caplog: pytest.LogCaptureFixture) -> None:
    good = normalize_record(CONTRACT_JANE)
    inspection = Inspection("fail", None, typed=True, log=logging.getLogger("test"))
    with caplog.at_level(logging.WARNING, "test"), pytest.raises(ConvosoDataQualityError) as caught:
        inspection.inspect([good, {**good, "user_id": "9", "total_seconds": good["total_seconds"] + 60}])
    assert isinstance(caught.value, ConvosoPermanentError)
    assert "time_parts_sum_to_total" in str(caught.value) and "user_id 9" in str(caught.value)
    assert caught.value.report["rules"]["time_parts_sum_to_total"]["broken"] == 1
    assert [r.getMessage() for r in caplog.records if "time_parts_sum_to_total" in r.getMessage()]
    # an advisory rule only warns, even in fail mode
    advisory = Inspection("fail", None, typed=True, log=logging.getLogger("test"))
    advisory.inspect([{**good, "calls": good["calls"] + 2}])
    assert advisory.summary()["quality"]["rules"]["calls_add_up"]["broken"] == 1


def test_inspection_of_untyped_records_checks_typed_copies() -> None:
    inspection = Inspection("warn", None, typed=False, log=logging.getLogger("test"))
    raw = {**CONTRACT_JOHN, "calls": "52"}
    inspection.inspect([raw, {**CONTRACT_JANE, "calls": "not a number"}])
    quality = inspection.summary()["quality"]
    assert quality["checked"] == 1  # the record that does not type is left out
    assert quality["rules"]["time_parts_sum_to_total"]["examples"] == ["12346"]
    assert raw["calls"] == "52"  # the written record stays as sent


def test_inspection_off_has_no_quality_member() -> None:
    inspection = Inspection("off", None, typed=True, log=logging.getLogger("test"))
    inspection.inspect([normalize_record(CONTRACT_JANE)])
    assert set(inspection.summary()) == {"digest"}
    with pytest.raises(ValueError, match="quality_checks must be one of off, warn, fail"):
        Inspection("loud", None, typed=True, log=logging.getLogger("test"))
