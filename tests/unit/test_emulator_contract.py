"""The emulator's copy of the wire facts against the client's tables: whoever changes one sees the other.

Neither copy can be checked against the live service here; drift between them is the bug
this catches (the emulator imports no client code, so an oracle that read the client's
tables could not catch a wrong one).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow_provider_convoso.endpoints.agent_performance import AgentPerformanceQuery
from airflow_provider_convoso.endpoints.agent_performance.query import FILTER_ERROR_CODES as AP_CODES
from airflow_provider_convoso.endpoints.agent_productivity import AgentProductivityQuery
from airflow_provider_convoso.endpoints.call_logs import FILTERS as CALL_LOG_FILTERS
from airflow_provider_convoso.endpoints.call_logs.query import FILTER_ERROR_CODES as CALL_LOG_CODES
from airflow_provider_convoso.endpoints.call_logs.query import CallLogsQuery
from airflow_provider_convoso.endpoints.leads.query import FILTER_ERROR_CODES as LEAD_CODES
from airflow_provider_convoso.endpoints.leads.query import MAX_LIMIT as LEADS_MAX_LIMIT
from airflow_provider_convoso.endpoints.leads.query import LeadsQuery
from airflow_provider_convoso.endpoints.lookups import CampaignsQuery, ListsQuery, StatusQuery, UsersQuery
from airflow_provider_convoso.settings import DEFAULT_BASE_URL
from airflow_provider_convoso.testing.emulator import contract
from airflow_provider_convoso.wire.envelope import AUTH_ERROR_CODES, OFFSET_ERROR_CODE


def test_every_path_the_client_sends_is_one_the_emulator_answers() -> None:
    prefix = urlsplit(DEFAULT_BASE_URL).path
    assert prefix == contract.PREFIX
    client = {
        prefix + query.endpoint
        for query in (
            AgentPerformanceQuery,
            CallLogsQuery,
            AgentProductivityQuery,
            UsersQuery,
            CampaignsQuery,
            ListsQuery,
            StatusQuery,
            LeadsQuery,
        )
    }
    assert client == contract.ALL_PATHS


def test_error_codes_agree() -> None:
    assert contract.AUTH_ERROR_CODE in AUTH_ERROR_CODES
    assert contract.OFFSET_ERROR_CODE == OFFSET_ERROR_CODE
    assert {code: name for name, code, _, _ in contract.AGENT_PERFORMANCE_FILTERS} == AP_CODES
    assert {code: name for name, (code, _) in contract.CALL_LOG_FILTER_CODES.items()} == CALL_LOG_CODES
    assert set(contract.CALL_LOG_FILTER_CODES) <= set(CALL_LOG_FILTERS)
    assert {name for name, _, _, _ in contract.AGENT_PERFORMANCE_FILTERS} == set(AgentPerformanceQuery.FILTERS)


def test_caps_agree() -> None:
    assert contract.CALL_LOG_OFFSET_CAP == CallLogsQuery.OFFSET_CAP
    assert contract.PRODUCTIVITY_OFFSET_CAP == AgentProductivityQuery.OFFSET_CAP
    assert contract.PRODUCTIVITY_PAGE_CAP == AgentProductivityQuery.PAGE_CAP
    assert contract.LEADS_LIMIT_CAP == LEADS_MAX_LIMIT
    assert LEAD_CODES[contract.LEADS_LIMIT_ERROR[0]] == "limit"
