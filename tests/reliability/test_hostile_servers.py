"""Hostile or broken servers: nothing hangs past its timeout, grows past its cap, or passes for data.

Each test starts its own loopback server (a raw socket, so it can misbehave in ways an HTTP
library would not let it) and stops it when done; every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from support import BOTH_PATHS, fetch

from airflow_provider_convoso.compat import AirflowFailException
from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery
from airflow_provider_convoso.exceptions import (
    ConvosoAuthError,
    ConvosoError,
    ConvosoInputError,
    ConvosoResponseError,
    ConvosoTransientError,
)
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.testing import peak_memory
from airflow_provider_convoso.triggers.agent_performance import AgentPerformanceTrigger

TOKEN = "tok-HOSTILE-3c9e/+&="  # characters that URL- and JSON-escape differently


@contextmanager
def raw_server(respond: Callable[[socket.socket, bytes], None], *, max_connections: int = 20) -> Iterator[str]:
    """A loopback server that reads one request per connection and lets ``respond`` answer it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    port = listener.getsockname()[1]

    def serve() -> None:
        served = 0
        while not stop.is_set() and served < max_connections:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            served += 1
            with conn:
                conn.settimeout(5)
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 65536:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    request += chunk
                head, _, body = request.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(body) < length:
                    body += conn.recv(65536)
                with suppress(OSError):
                    respond(conn, body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


def _connect(monkeypatch: pytest.MonkeyPatch, url: str, **extra: Any) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONVOSO_DEFAULT",
        json.dumps({"conn_type": "convoso", "host": url, "password": TOKEN, "extra": {"retry_backoff": 0, **extra}}),
    )


def _json_answer(conn: socket.socket, payload: Any, status: str = "200 OK", headers: str = "") -> None:
    body = json.dumps(payload).encode()
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}"
        "Connection: close\r\n\r\n".encode()
        + body
    )


def _trickle(conn: socket.socket, _: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    deadline = time.monotonic() + 8  # bounded: the client must give up long before
    while time.monotonic() < deadline:
        conn.sendall(b" ")
        time.sleep(0.25)


def test_a_trickling_server_ends_the_sync_attempt_within_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with raw_server(_trickle) as url:
        _connect(monkeypatch, url, timeout=1, max_retries=0)
        started = time.monotonic()
        with pytest.raises(ConvosoTransientError, match=r"longer than timeout=1s"):
            ConvosoHook().get_agent_performance()
        assert time.monotonic() - started < 2.0


def test_a_trickling_server_ends_the_async_attempt_within_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with raw_server(_trickle) as url:
        _connect(monkeypatch, url, timeout=1, max_retries=0)
        started = time.monotonic()
        with pytest.raises(ConvosoTransientError, match=r"longer than timeout=1s"):
            asyncio.run(ConvosoHook().aget_agent_performance())
        assert time.monotonic() - started < 1.6


def test_a_trigger_poll_never_delays_its_timeout_past_end_time(monkeypatch: pytest.MonkeyPatch) -> None:
    with raw_server(_trickle) as url:
        _connect(monkeypatch, url, timeout=30, max_retries=5)
        trigger = AgentPerformanceTrigger(
            convoso_conn_id="convoso_default", params={}, poke_interval=0.1, end_time=time.time() + 1.0
        )

        async def first_event() -> Any:
            async for event in trigger.run():
                return event.payload
            return None

        started = time.monotonic()
        event = asyncio.run(first_event())
        assert event["status"] == "timeout"
        assert time.monotonic() - started < 1.6


@BOTH_PATHS
def test_a_gzip_bomb_stops_at_the_size_cap(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    zeros = bytes(1 << 20)
    bomb = b"".join(compressor.compress(zeros) for _ in range(512)) + compressor.flush()  # 512 MiB decoded
    assert len(bomb) < 1 << 20

    def respond(conn: socket.socket, _: bytes) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(bomb)}\r\nConnection: close\r\n\r\n".encode()
            + bomb
        )

    with raw_server(respond) as url:
        _connect(monkeypatch, url, max_response_bytes=8 * 1024 * 1024, max_retries=3)

        def call() -> BaseException:
            with pytest.raises(ConvosoResponseError, match="max_response_bytes=8388608") as caught:
                fetch(path)
            return caught.value

        error, peak = peak_memory(call)
    assert isinstance(error, AirflowFailException)  # permanent: not retried, not a bare MemoryError
    assert peak < 160 * 1024 * 1024, f"peak RSS rose {peak / 2**20:.0f} MiB for an 8 MiB cap"


def _encoded_answer(body: bytes, encoding: str) -> Callable[[socket.socket, bytes], None]:
    def respond(conn: socket.socket, _: bytes) -> None:
        conn.sendall(
            f"HTTP/1.1 200 OK\r\nContent-Encoding: {encoding}\r\n".encode()
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    return respond


@BOTH_PATHS
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_small_compressed_answers_decode(monkeypatch: pytest.MonkeyPatch, path: str, encoding: str) -> None:
    plain = json.dumps([{"user_id": "7", "calls": "3"}]).encode()
    body = gzip.compress(plain) if encoding == "gzip" else zlib.compress(plain)
    with raw_server(_encoded_answer(body, encoding)) as url:
        _connect(monkeypatch, url)
        assert fetch(path)[0]["calls"] == 3


@BOTH_PATHS
def test_a_large_gzip_answer_under_the_cap_decodes(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    """48 MiB decoded, under the default 256 MiB cap (some aiohttp releases stop at 32 MiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    spaces = b" " * (1 << 20)
    body = compressor.compress(b"[") + b"".join(compressor.compress(spaces) for _ in range(48))
    body += compressor.compress(b"]") + compressor.flush()
    with raw_server(_encoded_answer(body, "gzip")) as url:
        _connect(monkeypatch, url)
        assert fetch(path) == []


def test_an_encoding_that_was_not_asked_for_is_not_data(monkeypatch: pytest.MonkeyPatch) -> None:
    with raw_server(_encoded_answer(b"\x00\x01", "compress")) as url:
        _connect(monkeypatch, url)
        with pytest.raises(ConvosoResponseError, match="encoded as 'compress'"):
            fetch("async")


@BOTH_PATHS
def test_a_redirect_is_not_data_and_is_not_followed(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    seen: list[bytes] = []

    def respond(conn: socket.socket, body: bytes) -> None:
        seen.append(body)
        _json_answer(conn, [], status="302 Found", headers="Location: https://elsewhere.example/login\r\n")

    with raw_server(respond) as url:
        _connect(monkeypatch, url)
        with pytest.raises(ConvosoResponseError, match=r"HTTP 302 Found to https://elsewhere.example/login") as caught:
            fetch(path)
    assert isinstance(caught.value, AirflowFailException)
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({}, ConvosoResponseError),
        (None, ConvosoResponseError),
        ("rows", ConvosoResponseError),
        ({"success": "no"}, ConvosoResponseError),
        ({"status": "ok"}, ConvosoResponseError),
        ({"code": 5001, "text": "Auth token is invalid"}, ConvosoAuthError),
        ({"success": False, "code": 6031, "text": "Missing Agents"}, ConvosoError),
    ],
)
@BOTH_PATHS
def test_non_answers_are_never_data(monkeypatch: pytest.MonkeyPatch, payload: Any, error: type, path: str) -> None:
    with raw_server(lambda conn, _: _json_answer(conn, payload)) as url:
        _connect(monkeypatch, url)
        with pytest.raises(error) as caught:
            fetch(path)
    assert isinstance(caught.value, AirflowFailException)


@pytest.mark.parametrize(
    "payload",
    [[], {"success": True}, {"success": True, "data": None}, {"data": []}, {"success": "true", "data": {}}],
)
@BOTH_PATHS
def test_real_empty_answers_are_zero_rows(monkeypatch: pytest.MonkeyPatch, payload: Any, path: str) -> None:
    with raw_server(lambda conn, _: _json_answer(conn, payload)) as url:
        _connect(monkeypatch, url)
        assert fetch(path) == []


def _echo_forms() -> list[str]:
    return [TOKEN, quote_plus(TOKEN), json.dumps(TOKEN)[1:-1]]


@BOTH_PATHS
def test_a_server_echoing_the_token_never_puts_it_in_errors_or_warnings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    echo = " ".join(_echo_forms())

    def html_echo(conn: socket.socket, _: bytes) -> None:
        page = f"<html>blocked request auth_token={echo}</html>".encode()
        conn.sendall(f"HTTP/1.1 503 Busy\r\nContent-Length: {len(page)}\r\nConnection: close\r\n\r\n".encode() + page)

    with raw_server(html_echo) as url:
        _connect(monkeypatch, url, max_retries=2)
        with pytest.raises(ConvosoTransientError) as transient:
            fetch(path)
    with raw_server(lambda conn, _: _json_answer(conn, {"success": False, "text": f"token {echo} is invalid"})) as url:
        _connect(monkeypatch, url)
        with pytest.raises(ConvosoAuthError) as auth:
            fetch(path)
        ok, message = ConvosoHook().test_connection()
    assert not ok
    captured = capsys.readouterr()
    seen = [
        str(transient.value),
        repr(transient.value),
        str(auth.value),
        repr(auth.value),
        auth.value.text or "",
        message,
    ]
    seen += [caplog.text, captured.out, captured.err]
    for form in _echo_forms():
        assert all(form not in text for text in seen), form
    assert "***" in str(auth.value)


@BOTH_PATHS
def test_errors_keep_no_client_error_or_request_reachable(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    with raw_server(lambda conn, _: conn.close()) as url:  # connection dropped before an answer
        _connect(monkeypatch, url, max_retries=1)
        with pytest.raises(ConvosoTransientError) as caught:
            fetch(path)
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None and len(chain) < 20:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert all(isinstance(link, ConvosoError) for link in chain), [type(link) for link in chain]
    values = [value for link in chain for value in vars(link).values()]
    assert not any(type(value).__module__.split(".")[0] in ("httpx", "aiohttp", "yarl") for value in values), values
    assert not any(isinstance(value, httpx.Request) for value in values)


@BOTH_PATHS
def test_proxy_variables_are_ignored_for_a_loopback_http_base(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    for name in ("HTTP_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{dead_port}")
    with raw_server(lambda conn, _: _json_answer(conn, [{"user_id": "1"}])) as url:
        _connect(monkeypatch, url)
        assert len(fetch(path)) == 1


def test_a_socks_proxy_without_its_package_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    assert importlib.util.find_spec("socksio") is None, "this test needs httpx's optional socksio to be absent"
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONVOSO_DEFAULT",
        json.dumps({"conn_type": "convoso", "host": "api.convoso.com", "password": TOKEN}),
    )
    with pytest.raises(ConvosoInputError, match=r"ALL_PROXY names a proxy .*httpx\[socks\]") as caught:
        ConvosoHook().get_agent_performance()
    assert "socks5://" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HTTPS_PROXY", "socks5://127.0.0.1:1080", r"HTTPS_PROXY names a proxy the trigger's client \(aiohttp\)"),
        ("ALL_PROXY", "http://127.0.0.1:3128", r"ALL_PROXY is set, which the trigger's client \(aiohttp\) ignores"),
    ],
)
def test_a_proxy_the_async_client_cannot_use_is_refused_not_bypassed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, value)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONVOSO_DEFAULT",
        json.dumps({"conn_type": "convoso", "host": "api.convoso.com", "password": TOKEN}),
    )
    with pytest.raises(ConvosoInputError, match=message) as caught:
        fetch("async")
    assert value not in str(caught.value)


def test_a_total_that_disagrees_with_the_rows_is_logged_and_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator

    payload = {"success": True, "code": 200, "total": "3", "data": {"1": {"calls": "2"}, "2": {"calls": "5"}}}
    with raw_server(lambda conn, _: _json_answer(conn, payload)) as url:
        _connect(monkeypatch, url)
        with caplog.at_level("WARNING"):
            assert ConvosoHook().count(AgentPerformanceQuery()) == 2
            summary = AgentPerformanceOperator(task_id="t", output_path=f"file://{tmp_path}/a.jsonl").execute({})
    captured = capsys.readouterr()
    assert "reported total=3 but sent 2 agent rows" in caplog.text + captured.out + captured.err
    assert summary["rows"] == 2 and summary["total_reported"] == 3
