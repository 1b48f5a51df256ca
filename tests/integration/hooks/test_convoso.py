"""The hook against the emulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import subprocess
import sys
from typing import Any

import httpx
import pytest
from support import BOTH_PATHS, ConnJson, fetch

from airflow_provider_convoso.compat import AirflowFailException
from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery
from airflow_provider_convoso.endpoints.agent_performance.records import normalize_record
from airflow_provider_convoso.exceptions import ConvosoAuthError, ConvosoInvalidFilterError, ConvosoTransientError
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.testing import FAULT_KINDS, ConvosoEmulator

ENDPOINT = "/v1/agent-performance/search"


@pytest.mark.parametrize("shape", ["list", "data", "keyed"])
def test_every_shape_parses_to_identical_typed_records(convoso_conn: ConvosoEmulator, shape: str) -> None:
    convoso_conn.configure(shape="list")
    expected = ConvosoHook().get_agent_performance(date_start="2026-03-01", date_end="2026-03-03")
    convoso_conn.configure(shape=shape)
    got = ConvosoHook().get_agent_performance(date_start="2026-03-01", date_end="2026-03-03")
    assert got == expected and len(got) == 12
    assert all(isinstance(r["calls"], int) and isinstance(r["talk_sec_pt"], float) for r in got)
    assert all(r["total_seconds"] > 24 * 3600 for r in got if r["total_time"].split(":")[0] > "24")


@pytest.mark.parametrize(
    ("shape", "empty"),
    [("list", "list"), ("data", "list"), ("data", "object"), ("data", "null"), ("keyed", "object"), ("keyed", "null")],
)
def test_empty_answers_in_every_shape(convoso_conn: ConvosoEmulator, shape: str, empty: str) -> None:
    convoso_conn.configure(shape=shape, empty_data=empty)
    assert ConvosoHook().get_agent_performance(date_start="2027-01-01") == []


def test_date_range_cases_follow_the_contract(convoso_conn: ConvosoEmulator) -> None:
    hook = ConvosoHook()
    today = hook.get_agent_performance()
    assert today == hook.get_agent_performance(date_start=convoso_conn.today, date_end=convoso_conn.today)
    since = hook.get_agent_performance(date_start="2026-03-01")
    assert since == hook.get_agent_performance(date_start="2026-03-01", date_end=convoso_conn.today)
    until = hook.get_agent_performance(date_end="2026-03-01")
    assert until == hook.get_agent_performance(date_start=convoso_conn.history_start, date_end="2026-03-01")
    assert [r.params for r in convoso_conn.requests[:3]] == [
        {},
        {"date_start": "2026-03-03", "date_end": "2026-03-03"},
        {"date_start": "2026-03-01"},
    ]


def test_filters_select_agents(convoso_conn: ConvosoEmulator) -> None:
    hook = ConvosoHook()
    agent = convoso_conn.agents[0]
    campaign = sorted(agent.campaigns)[0]
    by_campaign = hook.get_agent_performance(date_start="2026-03-01", campaign_ids=campaign)
    assert agent.user_id in {r["user_id"] for r in by_campaign}
    assert {r["user_id"] for r in by_campaign} == {a.user_id for a in convoso_conn.agents if campaign in a.campaigns}
    status = sorted(agent.statuses)[0]
    assert (
        hook.get_agent_performance(date_start="2026-03-01", status_ids=[status], user_ids=[int(agent.user_id)])[0][
            "user_id"
        ]
        == agent.user_id
    )


@pytest.mark.parametrize(
    ("param", "code"),
    [("campaign_ids", 6026), ("queue_ids", 6041), ("list_ids", 6042), ("user_ids", 6006), ("status_ids", 6050)],
)
@pytest.mark.parametrize("error_shape", ["contract", "code_text"])
def test_invalid_filters_fail_on_first_attempt(
    convoso_conn: ConvosoEmulator, param: str, code: int, error_shape: str
) -> None:
    convoso_conn.configure(error_shape=error_shape)
    with pytest.raises(ConvosoInvalidFilterError) as caught:
        ConvosoHook().get_agent_performance(**{param: "999999"})
    error = caught.value
    assert (error.error_code, error.parameter) == (code, param)
    assert f"{param}='999999'" in str(error)
    assert isinstance(error, AirflowFailException)
    assert len(convoso_conn.requests) == 1


@pytest.mark.parametrize(
    ("error_shape", "status"), [("contract", 200), ("code_text", 200), ("contract", 401), ("contract", 403)]
)
def test_bad_token_fails_on_first_attempt(
    conn_json: ConnJson, emulator: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, error_shape: str, status: int
) -> None:
    emulator.configure(error_shape=error_shape, auth_status=status)
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(emulator).replace(emulator.token, "wrong-token"))
    with pytest.raises(ConvosoAuthError):
        ConvosoHook().get_agent_performance()
    assert len(emulator.requests) == 1


@BOTH_PATHS
@pytest.mark.parametrize("fault", [f for f in FAULT_KINDS if f != "slow"])
def test_each_transient_fault_heals_under_retries(
    conn_json: ConnJson, convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch, fault: str, path: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, timeout=0.3))
    convoso_conn.configure(faults=[fault, fault], retry_after="0", timeout_delay=1.0)
    rows = fetch(path, ConvosoHook(), date_start="2026-03-02")
    assert len(rows) == 12
    assert [r.fault for r in convoso_conn.requests] == [fault, fault, None]


@BOTH_PATHS
def test_faults_outlasting_retries_raise_transient_error(convoso_conn: ConvosoEmulator, path: str) -> None:
    convoso_conn.configure(faults=["503"] * 3, retry_after="0")
    with pytest.raises(ConvosoTransientError, match="after 3 attempts"):
        fetch(path, ConvosoHook(max_retries=2))
    assert len(convoso_conn.requests) == 3


@BOTH_PATHS
def test_retry_after_is_waited_and_each_retry_logged(
    convoso_conn: ConvosoEmulator,
    path: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    convoso_conn.configure(faults=["503", "429"], retry_after="0.3")
    with caplog.at_level("WARNING"):
        rows = fetch(path, ConvosoHook(max_retries=2, retry_max_wait=5), date_start="2026-03-02")
    assert len(rows) == 12
    starts = [r.started for r in convoso_conn.requests]
    assert len(starts) == 3
    assert all(later - earlier >= 0.3 for earlier, later in itertools.pairwise(starts)), starts
    logged = caplog.text + capsys.readouterr().out
    assert "retry 1 of 2 in 0.30s" in logged
    assert "retry 2 of 2 in 0.30s" in logged


def test_slow_answers_within_timeout_succeed(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(faults=["slow"], slow_delay=0.05)
    assert len(ConvosoHook().get_agent_performance()) == 12
    assert len(convoso_conn.requests) == 1


@pytest.mark.parametrize("request_format", ["json", "form"])
@BOTH_PATHS
def test_token_travels_in_the_body_never_the_url(
    conn_json: ConnJson,
    convoso_conn: ConvosoEmulator,
    monkeypatch: pytest.MonkeyPatch,
    request_format: str,
    path: str,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, request_format=request_format))
    convoso_conn.configure(accept_json=True)
    assert len(fetch(path, ConvosoHook(), user_ids="10001,10002")) == 2
    [record] = convoso_conn.requests
    assert record.token_in_body and not record.token_in_query
    assert record.params == {"user_ids": "10001,10002"}
    assert (
        record.content_type == {"json": "application/json", "form": "application/x-www-form-urlencoded"}[request_format]
    )
    assert record.user_agent.startswith("airflow-provider-convoso/")
    assert {"sync": "httpx/", "async": "aiohttp/"}[path] in record.user_agent


def test_emulator_accepts_query_string_requests_and_rejects_bad_dates(emulator: ConvosoEmulator) -> None:
    url = emulator.url + ENDPOINT
    assert len(httpx.get(url, params={"auth_token": emulator.token, "date_start": "2026-03-01"}).json()) == 12
    assert emulator.requests[-1].token_in_query
    bad = httpx.post(url, data={"auth_token": emulator.token, "date_start": "2026-3-1"}).json()
    assert bad == {"success": False, "error": "Invalid date format. Use YYYY-MM-DD"}
    assert httpx.post(emulator.url + "/v1/other", json={}).status_code == 404


def test_emulator_reads_requests_as_php_does(emulator: ConvosoEmulator) -> None:
    """$_REQUEST: query string and form bodies; a JSON body is not read, so its token is never seen."""
    url = emulator.url + ENDPOINT
    unread = httpx.post(url, json={"auth_token": emulator.token}).json()
    assert unread["success"] is False and "token" in unread["error"].lower()
    assert not emulator.requests[-1].token_in_body
    assert len(httpx.post(url, data={"auth_token": emulator.token}).json()) == 12
    # A form body wins over the query string, as PHP's default request_order "GP" has it.
    both = httpx.post(url, params={"auth_token": "wrong"}, data={"auth_token": emulator.token}).json()
    assert len(both) == 12
    emulator.configure(accept_json=True)
    assert len(httpx.post(url, json={"auth_token": emulator.token}).json()) == 12


def test_json_format_auth_error_suggests_form(
    conn_json: ConnJson, convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, request_format="json"))
    with pytest.raises(ConvosoAuthError, match="request_format to form") as caught:
        ConvosoHook().get_agent_performance()
    assert isinstance(caught.value, AirflowFailException)
    ok, message = ConvosoHook().test_connection()
    assert not ok and "request_format to form" in message
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn))
    assert ConvosoHook().test_connection()[0] is True


def test_emulator_refuses_a_host_that_only_looks_like_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ConvosoEmulator(host="127.evil.example")
    with pytest.raises(ValueError, match="loopback"):
        ConvosoEmulator(host="0.0.0.0")
    assert ConvosoEmulator(host="127.0.0.2")._host == "127.0.0.2"


def test_one_pooled_connection_is_reused(convoso_conn: ConvosoEmulator) -> None:
    hook = ConvosoHook()
    for _ in range(3):
        hook.get_agent_performance()
    assert hook.client is hook.client
    assert len(convoso_conn.requests) == 3


def test_data_appears_after_n_requests(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(data_after_requests=2)
    hook = ConvosoHook()
    assert [len(hook.get_agent_performance()) for _ in range(3)] == [0, 0, 12]


def test_async_twin_matches_sync(convoso_conn: ConvosoEmulator) -> None:
    async def run() -> list[dict]:
        hook = ConvosoHook()
        try:
            return await hook.aget_agent_performance(date_start="2026-03-01", campaign_ids="111")
        finally:
            await hook.aclose()

    convoso_conn.configure(faults=["reset", "502"], retry_after="0")
    assert asyncio.run(run()) == ConvosoHook().get_agent_performance(date_start="2026-03-01", campaign_ids="111")


def test_test_connection_against_emulator(
    conn_json: ConnJson, convoso_conn: ConvosoEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, message = ConvosoHook().test_connection()
    assert ok is True
    assert message == (
        "Connected: the token can read agent performance (12 agent rows today), call logs, agent productivity, users, "
        "leads."
    )
    assert {record.path for record in convoso_conn.requests} == {
        "/v1/agent-performance/search",
        "/v1/log/retrieve",
        "/v1/agent-productivity/search",
        "/v1/users/search",
        "/v1/leads/search",
    }
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn).replace(convoso_conn.token, "nope"))
    ok, message = ConvosoHook().test_connection()
    assert not ok and "ConvosoAuthError" in message


def test_emulator_cli_serves_on_loopback() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_convoso.testing.emulator",
            "--port",
            "0",
            "--token",
            "cli",
            "--today",
            "2026-03-03",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    with process:  # closes its stdout pipe too
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            assert len(httpx.post(url + ENDPOINT, data={"auth_token": "cli"}).json()) == 12
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0


def test_emulator_data_is_deterministic_per_seed() -> None:
    with (
        ConvosoEmulator(seed=3, today=dt.date(2026, 3, 3)) as a,
        ConvosoEmulator(seed=3, today=dt.date(2026, 3, 3)) as b,
    ):
        params = {"date_start": "2026-02-01"}
        assert a.records(params) == b.records(params)
    with ConvosoEmulator(seed=4, today=dt.date(2026, 3, 3)) as c:
        assert c.records(params) != a.records(params)


def test_emulator_with_a_latency_computes_an_answers_records_once(mocker: Any) -> None:
    emulator = ConvosoEmulator(today=dt.date(2026, 3, 3), latency=0.05)
    computed = mocker.spy(emulator, "day_metrics")
    params = {"date_start": "2026-02-01", "date_end": "2026-02-02"}
    first = emulator.records(params)
    assert computed.call_count == 2 * len(emulator.agents)
    first[0]["calls"] = -1  # a caller's change stays its own
    assert emulator.records(params)[0]["calls"] >= 0
    assert emulator.records(params) == emulator.records(params)
    assert computed.call_count == 2 * len(emulator.agents)
    # What else shapes the records is part of what is kept.
    assert emulator.records(params, progress=0.5) != emulator.records(params)
    broken = emulator.configure(inconsistent_every=1).records(params)
    assert broken != emulator.configure(inconsistent_every=0).records(params)
    # Without a latency, computing is the emulator's service time: every answer is computed.
    emulator.configure(latency=0.0)
    before = computed.call_count
    assert emulator.records(params) == emulator.records(params)
    assert computed.call_count == before + 4 * len(emulator.agents)
    # A large account's answers are not kept (each could be tens of MB).
    large = ConvosoEmulator(today=dt.date(2026, 3, 3), agents=5_000, latency=0.05)
    counted = mocker.spy(large, "day_metrics")
    large.records({"date_start": "2026-03-01", "date_end": "2026-03-01"})
    large.records({"date_start": "2026-03-01", "date_end": "2026-03-01"})
    assert counted.call_count == 2 * 5_000


def test_data_appears_after_t_seconds(convoso_conn: ConvosoEmulator) -> None:
    import time

    hook = ConvosoHook()
    convoso_conn.configure(data_after_seconds=0.3)
    started = time.monotonic()
    assert hook.get_agent_performance() == []
    polls = 1
    while not hook.get_agent_performance():  # bounded: the knob opens after 0.3 s
        polls += 1
        assert time.monotonic() - started < 10
    assert time.monotonic() - started >= 0.3
    assert polls >= 2


@pytest.mark.parametrize("shape", ["list", "data", "keyed"])
def test_count_matches_the_typed_rows_in_every_shape(convoso_conn: ConvosoEmulator, shape: str) -> None:
    convoso_conn.configure(shape=shape)
    hook = ConvosoHook()
    query = AgentPerformanceQuery(date_start=dt.date(2026, 3, 1), date_end=dt.date(2026, 3, 3))
    assert hook.count(query) == len(hook.fetch(query)) == 12
    assert asyncio.run(hook.acount(query)) == 12
    convoso_conn.configure(empty_data="null")
    assert hook.count(AgentPerformanceQuery.from_inputs(date_start="2027-01-01")) == 0


def test_acount_counts_a_large_answer_off_the_event_loop(
    convoso_conn: ConvosoEmulator, mocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from airflow_provider_convoso.endpoints.agent_performance import reading as responses
    from airflow_provider_convoso.hooks import convoso

    monkeypatch.setattr(convoso, "LOOP_INLINE_BYTES", 1024)  # the 12-agent answer is larger
    counted_on = []
    real = responses.count_rows

    def spy(content: bytes, params: Any) -> int:
        counted_on.append(threading.current_thread() is threading.main_thread())
        return real(content, params)

    mocker.patch.object(responses, "count_rows", side_effect=spy)
    params = AgentPerformanceQuery.from_inputs(date_start="2026-03-01", date_end="2026-03-03")
    assert asyncio.run(ConvosoHook().acount(params)) == 12
    assert counted_on == [False]
    monkeypatch.setattr(convoso, "LOOP_INLINE_BYTES", 10**9)
    assert asyncio.run(ConvosoHook().acount(params)) == 12
    assert counted_on == [False, True]


def test_triggers_starting_together_share_one_connection_lookup(convoso_conn: ConvosoEmulator, mocker: Any) -> None:
    from airflow_provider_convoso.hooks import _sessions

    expected = ConvosoHook().count(AgentPerformanceQuery.from_inputs(date_start="2026-03-02"))
    lookups = mocker.spy(_sessions, "aget_connection")

    async def count(hook: ConvosoHook) -> int:
        try:
            return await hook.acount(AgentPerformanceQuery.from_inputs(date_start="2026-03-02"))
        finally:
            await hook.aclose()

    async def together_then_one_by_one() -> tuple[list[int], int, int]:
        counts = await asyncio.gather(*(count(ConvosoHook()) for _ in range(20)))
        shared = lookups.call_count
        await count(ConvosoHook())  # nothing is cached once a lookup completes:
        await count(ConvosoHook())  # a later hook looks again, so a rotated token is seen
        return counts, shared, lookups.call_count

    counts, shared, total = asyncio.run(together_then_one_by_one())
    assert counts == [expected] * 20 and expected > 0
    assert (shared, total) == (1, 3)


def test_a_shared_lookup_that_fails_fails_every_waiter_and_is_not_kept(mocker: Any) -> None:
    from airflow_provider_convoso.hooks import _sessions

    lookups = mocker.spy(_sessions, "aget_connection")

    async def settle(hook: ConvosoHook) -> BaseException | None:
        try:
            await hook.acount(AgentPerformanceQuery())
        except Exception as error:
            return error
        return None

    async def twice() -> list[BaseException | None]:
        together = await asyncio.gather(*(settle(ConvosoHook("convoso_missing")) for _ in range(5)))
        return [*together, await settle(ConvosoHook("convoso_missing"))]

    errors = asyncio.run(twice())
    assert all(error is not None and "convoso_missing" in str(error) for error in errors)
    assert lookups.call_count == 2  # one for the five that overlapped, one for the later call


def test_emulator_changing_figures_keep_the_rules_then_stop(emulator: ConvosoEmulator) -> None:
    from airflow_provider_convoso.endpoints.agent_performance.quality import QualityReport

    emulator.configure(changing_requests=3, shape="keyed")
    params = {"date_start": "2026-03-01", "date_end": "2026-03-02"}
    answers = []
    for _ in range(5):
        answer = emulator.answer(params, emulator.token)
        assert isinstance(answer, dict)
        answers.append(answer["data"])
    totals = [[agent["total_time"] for agent in data.values()] for data in answers]
    assert totals[0] != totals[1] != totals[2] == totals[3] == totals[4]  # moving, then settled
    assert [set(data) for data in answers] == [set(answers[0])] * 5  # the same agents throughout
    report = QualityReport()
    report.add_batch(normalize_record(dict(r, user_id=k)) for data in answers for k, r in data.items())
    assert report.broken() == [] and report.checked == 60


def test_emulator_changing_for_a_time(emulator: ConvosoEmulator) -> None:
    import json
    import time

    emulator.configure(changing_seconds=0.3)
    start = time.monotonic()
    seen = {json.dumps(emulator.answer({}, emulator.token))}
    while time.monotonic() - start < 0.35:  # answers asked back to back across the window
        seen.add(json.dumps(emulator.answer({}, emulator.token)))
    assert len(seen) > 2  # the figures moved while the window was open
    final = emulator.answer({}, emulator.token)
    assert emulator.answer({}, emulator.token) == final  # and stand still after it
    emulator.configure(changing_seconds=0)
    assert emulator.answer({}, emulator.token) == final


def test_emulator_inconsistent_records_break_exactly_three_rules(emulator: ConvosoEmulator) -> None:
    from airflow_provider_convoso.endpoints.agent_performance.quality import broken_rules

    emulator.configure(inconsistent_every=3)
    rows = [normalize_record(r) for r in emulator.records({"date_start": "2026-03-02", "date_end": "2026-03-02"})]
    broken = {r["user_id"]: broken_rules(r) for r in rows}
    for user_id, rules in broken.items():
        if (int(user_id) - 10001) % 3 == 0:
            assert rules == ["time_parts_sum_to_total", "talk_sec_pt_of_total", "calls_add_up"], user_id
        else:
            assert rules == [], user_id


def test_hooks_in_one_loop_share_one_session_closed_by_the_last(convoso_conn: ConvosoEmulator) -> None:
    from airflow_provider_convoso.hooks import _sessions

    # Each answer is held long enough for all 20 requests to be in flight together; the connections are
    # looked up first, so a slow lookup cannot spread the requests out past that hold.
    convoso_conn.configure(latency=0.5)
    query = AgentPerformanceQuery.from_inputs(date_start="2026-03-02")

    async def scenario() -> tuple[int, int, list[bool], int]:
        hooks = [ConvosoHook() for _ in range(20)]
        sessions = {id(session) for session in await asyncio.gather(*(hook.aget_conn() for hook in hooks))}
        counts = await asyncio.gather(*(hook.acount(query) for hook in hooks))
        for hook in hooks[:-1]:
            await hook.aclose()
        still_open = [not (await hooks[-1].aget_conn()).closed, _sessions.open_sessions() == 1]
        last = await hooks[-1].aget_conn()
        await hooks[-1].aclose()
        still_open.append(not last.closed)
        return len(set(counts)), len(sessions), still_open, _sessions.open_sessions()

    distinct_counts, sessions, still_open, left = asyncio.run(scenario())
    assert distinct_counts == 1 and sessions == 1
    assert still_open == [True, True, False] and left == 0
    # the shared session is not a bottleneck: it opened a connection for each request in flight
    assert convoso_conn.max_in_flight == 20


def test_a_loops_shared_session_keeps_at_most_its_pool_of_connections(convoso_conn: ConvosoEmulator) -> None:
    from airflow_provider_convoso.hooks import _sessions
    from airflow_provider_convoso.hooks._transport import SESSION_CONNECTIONS

    # Half again as many hooks as the pool, each answer held long enough for every request
    # to be asked for while the first ones wait: the rest queue for the pool's connections,
    # and get theirs within the attempt's timeout (2 s here), which counts that wait.
    convoso_conn.configure(latency=0.5)
    query = AgentPerformanceQuery.from_inputs(date_start="2026-03-02")
    hooks_count = SESSION_CONNECTIONS + SESSION_CONNECTIONS // 2

    async def scenario() -> tuple[set[int], int]:
        hooks = [ConvosoHook() for _ in range(hooks_count)]
        await asyncio.gather(*(hook.aget_conn() for hook in hooks))
        counts = await asyncio.gather(*(hook.acount(query) for hook in hooks))
        for hook in hooks:
            await hook.aclose()
        return set(counts), _sessions.open_sessions()

    counts, left = asyncio.run(scenario())
    assert len(counts) == 1 and left == 0
    # Never more than the pool (unbounded, all of them would be in flight at once); on a
    # busy machine the last of the first hundred may be asked for after the first answers.
    assert SESSION_CONNECTIONS // 2 < convoso_conn.max_in_flight <= SESSION_CONNECTIONS
    assert len(convoso_conn.requests) == hooks_count


def test_one_hook_called_concurrently_opens_one_client_and_closes_it(convoso_conn: ConvosoEmulator) -> None:
    import aiohttp

    from airflow_provider_convoso.hooks import _sessions

    query = AgentPerformanceQuery.from_inputs(date_start="2026-03-02")

    async def scenario(own_connector: bool) -> tuple[int, bool, int]:
        hook = ConvosoHook(async_connector=aiohttp.TCPConnector()) if own_connector else ConvosoHook()
        # Eight first calls at once, as a backfill's workers make them: each awaits the
        # connection lookup before the client exists.
        sessions = await asyncio.gather(*(hook.aget_conn() for _ in range(8)))
        await asyncio.gather(*(hook.acount(query) for _ in range(8)))
        await hook.aclose()
        distinct = len({id(session) for session in sessions})
        return distinct, all(session.closed for session in sessions), _sessions.open_sessions()

    assert asyncio.run(scenario(own_connector=False)) == (1, True, 0)
    assert asyncio.run(scenario(own_connector=True)) == (1, True, 0)


def test_a_session_is_shared_only_where_the_api_and_its_tls_are_the_same(convoso_conn: ConvosoEmulator) -> None:
    import aiohttp

    async def scenario() -> list[Any]:
        plain, same, unverified = ConvosoHook(), ConvosoHook(), ConvosoHook(verify=False)
        own = ConvosoHook(async_connector=aiohttp.TCPConnector())
        sessions = [await hook.aget_conn() for hook in (plain, same, unverified, own)]
        for hook in (plain, same, unverified, own):
            await hook.aclose()
        return [*sessions, all(session.closed for session in sessions)]

    plain, same, unverified, own, all_closed = asyncio.run(scenario())
    assert plain is same and unverified is not plain and own not in (plain, unverified)
    assert all_closed


def test_the_shared_session_keeps_no_cookie_a_server_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    import http.server
    import json
    import threading

    seen: list[str | None] = []

    class SetsCookies(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("Cookie"))
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b'{"success": true, "data": []}'
            self.send_response(200)
            self.send_header("Set-Cookie", "session=account-a; Path=/")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SetsCookies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    for name, token in (("A", "token-a"), ("B", "token-b")):
        monkeypatch.setenv(
            f"AIRFLOW_CONN_CONVOSO_{name}", json.dumps({"conn_type": "convoso", "host": url, "password": token})
        )

    async def both() -> bool:
        first, second = ConvosoHook("convoso_a"), ConvosoHook("convoso_b")
        try:
            await first.acount(AgentPerformanceQuery())
            await second.acount(AgentPerformanceQuery())
            await first.acount(AgentPerformanceQuery())
            return await first.aget_conn() is await second.aget_conn()
        finally:
            await first.aclose()
            await second.aclose()

    try:
        shared = asyncio.run(both())
    finally:
        server.shutdown()
        server.server_close()
    assert shared and seen == [None, None, None]


@BOTH_PATHS
def test_a_first_attempt_that_fails_is_retried_by_the_one_policy(convoso_conn: ConvosoEmulator, path: str) -> None:
    # The first attempt runs outside tenacity; its failure is tenacity's attempt 1, so the
    # number of attempts, and the error once they run out, are the policy's.
    convoso_conn.configure(fault_rate=1.0, fault_kinds=["500"])
    with pytest.raises(ConvosoTransientError, match="still failing after 3 attempts"):
        fetch(path, ConvosoHook(max_retries=2, retry_backoff=0))
    assert len(convoso_conn.requests) == 3
    convoso_conn.reset_log()
    convoso_conn.configure(fault_rate=0.0, faults=["502", None])
    assert len(fetch(path, ConvosoHook(max_retries=2, retry_backoff=0))) == 12
    assert [r.status for r in convoso_conn.requests] == [502, 200]


def test_test_connection_names_the_sections_the_token_cannot_read(convoso_conn: ConvosoEmulator) -> None:
    convoso_conn.configure(denied_paths=["/v1/log/retrieve", "/v1/users/search"])
    ok, message = ConvosoHook().test_connection()
    assert ok is True
    assert message.startswith(
        "Connected: the token can read agent performance (12 agent rows today), agent productivity, leads;"
    )
    assert "it cannot read call logs (ConvosoAuthError: the auth token may not read log/retrieve" in message
    assert "users (ConvosoAuthError: the auth token may not read users/search" in message
    assert convoso_conn.token not in message
    convoso_conn.configure(
        denied_paths=[
            "/v1/agent-performance/search",
            "/v1/log/retrieve",
            "/v1/agent-productivity/search",
            "/v1/users/search",
            "/v1/leads/search",
        ]
    )
    ok, message = ConvosoHook().test_connection()
    assert ok is False and message.startswith("ConvosoAuthError:") and "403" in message
