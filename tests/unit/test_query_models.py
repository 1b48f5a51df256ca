"""The request model: one frozen, validated query per endpoint."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery
from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.sensors.agent_performance import AgentPerformanceSensor


def test_the_arguments_are_defined_once_and_the_operators_template_them() -> None:
    names = AgentPerformanceQuery.argument_names()
    assert names == ("date_start", "date_end", "campaign_ids", "list_ids", "queue_ids", "user_ids", "status_ids")
    for task_type in (AgentPerformanceOperator, AgentPerformanceSensor):
        assert set(names) <= set(task_type.template_fields)
        assert set(task_type.template_fields_renderers) == set(AgentPerformanceQuery.FILTERS)


def test_inputs_are_validated_into_wire_form() -> None:
    query = AgentPerformanceQuery.from_inputs(date_start="2026-03-01", campaign_ids=[111, "222"], status_ids="NI, NC")
    assert query == AgentPerformanceQuery(date_start=dt.date(2026, 3, 1), campaign_ids="111,222", status_ids="NI,NC")
    assert query.to_params() == {"date_start": "2026-03-01", "campaign_ids": "111,222", "status_ids": "NI,NC"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.date_start = None  # type: ignore[misc]


def test_unknown_names_and_bad_values_fail_before_any_request() -> None:
    with pytest.raises(ConvosoInputError, match="unknown AgentPerformanceQuery argument"):
        AgentPerformanceQuery.from_inputs(campaign_id=1)
    with pytest.raises(ConvosoInputError, match="date_start 2026-03-05 is later than date_end"):
        AgentPerformanceQuery.from_inputs(date_start="2026-03-05", date_end="2026-03-01")


def test_by_day_splits_the_range_and_needs_both_ends() -> None:
    query = AgentPerformanceQuery.from_inputs(date_start="2026-02-27", date_end="2026-03-01", user_ids=7)
    assert [day.to_params() for day in query.by_day()] == [
        {"date_start": d, "date_end": d, "user_ids": "7"} for d in ("2026-02-27", "2026-02-28", "2026-03-01")
    ]
    with pytest.raises(ConvosoInputError, match="needs both date_start and date_end"):
        AgentPerformanceQuery.from_inputs(date_start="2026-03-01").by_day()


ids = st.lists(st.integers(min_value=0, max_value=2**63 - 1), min_size=1, max_size=5)


@given(
    start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)),
    span=st.integers(min_value=0, max_value=60),
    campaigns=st.none() | ids,
    users=st.none() | ids,
)
def test_params_round_trip_through_a_triggers_serialised_state(
    start: dt.date, span: int, campaigns: list[int] | None, users: list[int] | None
) -> None:
    query = AgentPerformanceQuery.from_inputs(
        date_start=start, date_end=start + dt.timedelta(days=span), campaign_ids=campaigns, user_ids=users
    )
    assert AgentPerformanceQuery.from_params(query.to_params()) == query
