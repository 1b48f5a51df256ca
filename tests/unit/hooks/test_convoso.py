"""Narrow hook unit tests on httpx.MockTransport: request shape, retries, error typing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_convoso.compat import AirflowFailException
from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery
from airflow_provider_convoso.exceptions import (
    ConvosoAuthError,
    ConvosoInputError,
    ConvosoResponseError,
    ConvosoTransientError,
)
from airflow_provider_convoso.hooks.convoso import ConvosoHook

TOKEN = "tok-unit-9d1e"


def _hook(
    monkeypatch: pytest.MonkeyPatch, handler: Callable[[httpx.Request], httpx.Response], **extra: object
) -> ConvosoHook:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONVOSO_UNIT",
        json.dumps(
            {
                "conn_type": "convoso",
                "host": "api.convoso.com",
                "password": TOKEN,
                "extra": {"retry_backoff": 0.001, **extra},
            }
        ),
    )
    return ConvosoHook("convoso_unit", transport=httpx.MockTransport(handler))


def test_init_does_no_io() -> None:
    hook = ConvosoHook("does_not_exist", timeout=3)
    assert hook._settings is None and hook._client is None
    assert "does_not_exist" in repr(hook)


def test_json_request_body_carries_token_and_only_set_params(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    hook = _hook(monkeypatch, handler, request_format="json")
    assert hook.get_agent_performance(date_start="2026-03-01", campaign_ids=[111, 222]) == []
    [request] = seen
    assert str(request.url) == "https://api.convoso.com/v1/agent-performance/search"
    assert request.method == "POST"
    assert json.loads(request.content) == {"auth_token": TOKEN, "date_start": "2026-03-01", "campaign_ids": "111,222"}
    agent = request.headers["user-agent"]
    assert agent.startswith("airflow-provider-convoso/") and "apache-airflow/" in agent and "httpx/" in agent
    assert TOKEN not in str(request.url)


def test_form_encoding_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True, "data": []})

    _hook(monkeypatch, handler).get_agent_performance(user_ids="1")
    assert seen[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen[0].content.decode() == f"auth_token={TOKEN}&user_ids=1"


def test_invalid_input_fails_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may be sent for invalid input")

    hook = _hook(monkeypatch, handler)
    with pytest.raises(ConvosoInputError, match="list_ids") as caught:
        hook.get_agent_performance(list_ids="1, ,2")
    assert isinstance(caught.value, AirflowFailException)
    assert isinstance(caught.value, ValueError)


def test_retry_after_is_honoured_and_logged_without_payload(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], mocker: Any
) -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(503, text="<html>down</html>"),
            httpx.Response(200, json=[]),
        ]
    )
    sleeps: list[float] = []
    mocker.patch("tenacity.nap.time.sleep", side_effect=sleeps.append)
    hook = _hook(monkeypatch, lambda request: next(answers), retry_backoff=0.5, retry_max_wait=0.25)
    with caplog.at_level(logging.WARNING):
        assert hook.get_agent_performance() == []
    assert sleeps[0] == 0.0  # Retry-After: 0 wins over the backoff
    assert 0.0 <= sleeps[1] <= 0.25  # full jitter, capped by retry_max_wait
    captured = capsys.readouterr()
    # Airflow 3 logs through structlog (stdout), Airflow 2 through logging (caplog).
    text = caplog.text + captured.out + captured.err
    warning = next(line for line in text.splitlines() if "HTTP 429" in line)
    assert "retry 1 of 5 in 0.00s" in warning and "warning" in warning.lower()
    assert TOKEN not in text and "auth_token" not in text


def test_exhausted_retries_raise_transient_error_with_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ConnectError("connection refused", request=request)

    hook = _hook(monkeypatch, handler, max_retries=2)
    with pytest.raises(ConvosoTransientError, match="after 3 attempts") as caught:
        hook.get_agent_performance()
    assert len(calls) == 3
    assert isinstance(caught.value.__cause__, ConvosoTransientError)
    assert not isinstance(caught.value, AirflowFailException)


def test_permanent_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json={"success": False, "code": 5001, "text": "Auth token is invalid"})

    with pytest.raises(ConvosoAuthError) as caught:
        _hook(monkeypatch, handler).get_agent_performance()
    assert len(calls) == 1
    assert isinstance(caught.value, AirflowFailException)
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


def test_connection_form() -> None:
    behaviour = ConvosoHook.get_ui_field_behaviour()
    assert set(behaviour["hidden_fields"]) == {"login", "schema", "port"}
    assert behaviour["relabeling"] == {"password": "Auth Token", "host": "API base URL"}
    assert behaviour["placeholders"]["timeout"] == "30"


def test_test_connection_message_never_has_token(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = _hook(monkeypatch, lambda r: httpx.Response(200, json={"success": False, "error": f"bad token {TOKEN}"}))
    ok, message = hook.test_connection()
    assert ok is False and "ConvosoAuthError" in message and TOKEN not in message
    answers = {
        "/v1/agent-performance/search": [{"user_id": "1"}],
        "/v1/log/retrieve": {"success": True, "data": {"results": [], "total_found": 0}},
        "/v1/agent-productivity/search": {"success": True, "data": {"entries": [], "total": "0"}},
        "/v1/users/search": {"success": True, "data": {}},
        "/v1/leads/search": {"success": True, "data": {"entries": [], "total": "0"}},
    }
    good = _hook(monkeypatch, lambda r: httpx.Response(200, json=answers[r.url.path]))
    assert good.test_connection() == (
        True,
        "Connected: the token can read agent performance (1 agent rows today), call logs, agent productivity, users, "
        "leads.",
    )


def test_connection_form_widgets_or_conn_fields() -> None:
    """2.11's Flask UI builds widgets for the extras; Airflow 3's UI reads ``conn-fields``."""
    import importlib.util

    if importlib.util.find_spec("flask_appbuilder") is None:
        with pytest.raises(ModuleNotFoundError):
            ConvosoHook.get_connection_form_widgets()
        from airflow_provider_convoso.provider_info import get_provider_info

        assert "timeout" in get_provider_info()["connection-types"][0]["conn-fields"]
        return
    widgets = ConvosoHook.get_connection_form_widgets()
    from airflow_provider_convoso.provider_info import get_provider_info

    assert set(widgets) == set(get_provider_info()["connection-types"][0]["conn-fields"])


def test_count_checks_the_envelope_but_leaves_typing_to_the_extract(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sensor waits for rows to exist; a malformed field fails the extract, not the wait."""
    body = {"success": True, "data": {"7": {"calls": "seven"}, "8": {"calls": "8"}}}
    hook = _hook(monkeypatch, lambda request: httpx.Response(200, json=body))
    assert hook.count(AgentPerformanceQuery()) == 2
    with pytest.raises(ConvosoResponseError, match="calls"):
        hook.fetch(AgentPerformanceQuery())
    failing = _hook(
        monkeypatch,
        lambda request: httpx.Response(200, json={"success": False, "code": 5001, "text": "Auth token is invalid"}),
    )
    with pytest.raises(ConvosoAuthError) as raised:
        failing.count(AgentPerformanceQuery())
    assert isinstance(raised.value, AirflowFailException)
