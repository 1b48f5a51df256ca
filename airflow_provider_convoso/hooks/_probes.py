"""What the connection test asks each API section for: one minimal read, and how to read its answer.

Convoso scopes a token per API section, so only a call to a section proves access to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from airflow_provider_convoso.wire.query import Query

#: A section's name, the query that probes it, and what its answer says (raises for an error answer).
Probe = tuple[str, Query, Callable[[bytes, Query], str]]


def _agent_performance(content: bytes, query: Query) -> str:
    from airflow_provider_convoso.endpoints.agent_performance.reading import count_rows

    return f"agent performance ({count_rows(content, query.to_params())} agent rows today)"


def _call_logs(content: bytes, query: Query) -> str:
    from airflow_provider_convoso.endpoints.call_logs.records import page_ids

    page_ids(content, query.to_params())
    return "call logs"


def _agent_productivity(content: bytes, query: Query) -> str:
    from airflow_provider_convoso.endpoints.agent_productivity import read_page
    from airflow_provider_convoso.wire.envelope import decode_json

    read_page(decode_json(content), query.to_params())
    return "agent productivity"


def _users(content: bytes, query: Query) -> str:
    from airflow_provider_convoso.wire.envelope import data_of, decode_json

    data_of(decode_json(content), query.to_params())
    return "users"


def _leads(content: bytes, query: Query) -> str:
    from airflow_provider_convoso.endpoints.leads.records import page_keys

    page_keys(content, query.to_params())
    return "leads"


def probes(today: dt.date) -> list[Probe]:
    """Return one minimal read of each API section this provider uses, agent performance first.

    :param today: the day the reads ask about.
    :return: ``(section, query, reader)`` triples.
    """
    from airflow_provider_convoso.endpoints.agent_performance import AgentPerformanceQuery
    from airflow_provider_convoso.endpoints.agent_productivity import AgentProductivityQuery
    from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery
    from airflow_provider_convoso.endpoints.leads.query import LeadsQuery
    from airflow_provider_convoso.endpoints.lookups import UsersQuery

    start = f"{today.isoformat()} 00:00:00"
    productivity = AgentProductivityQuery.from_inputs(date_start=today, date_end=today, limit=1)
    return [
        ("agent performance", AgentPerformanceQuery(), _agent_performance),
        ("call logs", CallLogsQuery.from_inputs(start_time=start, end_time=start, limit=1), _call_logs),
        ("agent productivity", productivity, _agent_productivity),
        ("users", UsersQuery.from_inputs(limit=1), _users),
        ("leads", LeadsQuery.from_inputs(updated_at_start_date=start, updated_at_end_date=start, limit=1), _leads),
    ]


def describe(readable: list[str], refused: list[tuple[str, Any]]) -> str:
    """Say which sections the token can read, and which it cannot and why.

    :param readable: what each readable section's reader said.
    :param refused: ``(section, error)`` for each section that answered with an error.
    :return: the message.
    """
    text = "Connected: the token can read " + ", ".join(readable)
    if refused:
        text += "; it cannot read " + ", ".join(
            f"{section} ({type(error).__name__}: {error})" for section, error in refused
        )
    return text + "."
