"""Request-parameter validation (pure module)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import pendulum
import pytest

from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery, parse_id_filter
from airflow_provider_convoso.wire.query import iter_days, parse_date


def test_parsing_modules_load_no_transport_storage_or_arrow() -> None:
    """They reach Airflow only through the error classes (which the operator loads anyway)
    and load no httpx, pyarrow, fsspec or tenacity beyond what that already loaded; the
    emulator loads no Airflow at all."""
    import subprocess

    code = (
        "import sys, airflow_provider_convoso.compat; before = set(sys.modules);"
        "import airflow_provider_convoso.wire.query, airflow_provider_convoso.wire.envelope, "
        "airflow_provider_convoso.endpoints.agent_performance.records, "
        "airflow_provider_convoso.endpoints.agent_performance.reading, airflow_provider_convoso.settings, "
        "airflow_provider_convoso.output, airflow_provider_convoso.endpoints.agent_performance.scoring, "
        "airflow_provider_convoso.endpoints.call_logs.reader, airflow_provider_convoso.endpoints.lookups, "
        "airflow_provider_convoso.endpoints.agent_productivity;"
        "bad=[m for m in set(sys.modules) - before if m.split('.')[0] in ('httpx','pyarrow','fsspec','tenacity')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
    code = (
        "import sys, airflow_provider_convoso.testing.emulator;"
        "print(','.join(m for m in sys.modules if m.split('.')[0] == 'airflow'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


@pytest.mark.parametrize(
    "value",
    ["2026-03-01", " 2026-03-01 ", dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 23, 59), pendulum.datetime(2026, 3, 1)],
)
def test_dates_accept_documented_forms(value: object) -> None:
    assert parse_date("date_start", value) == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "value", ["2026-3-1", "03/01/2026", "2026-02-30", "", 20260301, 1.5, True, [], "2026-03-01T00:00"]
)
def test_bad_dates_name_the_parameter_and_value(value: object) -> None:
    with pytest.raises(ValueError, match="date_end") as caught:
        parse_date("date_end", value)
    assert repr(value)[:20] in str(caught.value) or type(value).__name__ in str(caught.value)


def test_start_after_end_is_refused() -> None:
    with pytest.raises(ValueError, match=r"date_start 2026-03-05 is later than date_end 2026-03-01"):
        _params(date_start="2026-03-05", date_end="2026-03-01")


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (111, "111"),
        ("111,222", "111,222"),
        (" 111 , 222,333 ", "111,222,333"),
        ([111, "222"], "111,222"),
        ((1, 2), "1,2"),
        ("[1, 2]", "1,2"),
        ("('1', '2')", "1,2"),
        (None, None),
        ("", None),
    ],
)
def test_id_filters_accept_documented_forms(value: object, wire: str | None) -> None:
    assert parse_id_filter("campaign_ids", value) == wire


def test_status_ids_may_be_abbreviations() -> None:
    assert parse_id_filter("status_ids", ["NI", "NC", 5]) == "NI,NC,5"
    with pytest.raises(ValueError, match="campaign_ids element 'NI' must contain only digits"):
        parse_id_filter("campaign_ids", "NI")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1,,2", "empty element"),
        ("1, 2 3", "whitespace"),
        (["1\x00"], "non-printable"),
        ([], "empty list"),
        ([1.0], "elements must be ints or strings"),
        ([True], "elements must be ints or strings"),
        ([[1]], "elements must be ints or strings"),
        ([None], "elements must be ints or strings"),
        (-1, "must not be negative"),
        (1.5, "must be an int"),
        ({"a": 1}, "must be an int"),
        (b"1", "must be an int"),
        ("[1, 2", "looks like a list"),
        ("[[1]]", "elements must be ints or strings"),
    ],
)
def test_bad_filters_raise_value_error_naming_the_parameter(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_id_filter("user_ids", value)
    assert "user_ids" in str(caught.value)


def test_to_params_omits_unset_values() -> None:
    assert _params() == {}
    assert _params(date_start="2026-03-01", user_ids=[12345]) == {"date_start": "2026-03-01", "user_ids": "12345"}
    assert _params(date_end=dt.date(2026, 3, 3), status_ids="NI") == {"date_end": "2026-03-03", "status_ids": "NI"}


def test_iter_days_includes_both_ends() -> None:
    days = iter_days(dt.date(2026, 2, 27), dt.date(2026, 3, 2))
    assert [d.isoformat() for d in days] == ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]


def _params(**inputs: Any) -> dict[str, str]:
    return AgentPerformanceQuery.from_inputs(**inputs).to_params()
