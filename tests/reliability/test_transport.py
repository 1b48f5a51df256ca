"""Transport rules: https only (loopback excepted), TLS verification on by default."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_convoso.compat import AirflowFailException
from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.hooks._transport import _client_options
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.testing import ConvosoEmulator


@pytest.mark.parametrize(
    "host", ["http://api.convoso.com", "http://10.1.2.3:8080/v1", "http://192.168.1.10", "http://[2001:db8::1]"]
)
def test_plain_http_to_a_non_loopback_host_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    import socket

    def no_connect(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(socket, "create_connection", no_connect)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONVOSO_PLAIN", json.dumps({"conn_type": "convoso", "host": host, "password": "t"})
    )
    hook = ConvosoHook("convoso_plain")
    with pytest.raises(ConvosoInputError, match="refusing plain http://") as caught:
        hook.get_agent_performance()
    assert isinstance(caught.value, AirflowFailException)
    assert "client" not in hook.__dict__


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_tls_verification_is_on_by_default_and_a_bad_certificate_is_permanent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mocker: Any
) -> None:
    send = mocker.spy(ConvosoHook, "_send")
    with ConvosoEmulator(token="tls-token", ssl_context=_self_signed(tmp_path)) as emulator:
        assert emulator.url.startswith("https://127.0.0.1:")
        monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_TLS", emulator.connection_json())
        hook = ConvosoHook("convoso_tls")
        context = _client_options(hook.settings, hook.user_agent)["verify"]
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
        with pytest.raises(ConvosoInputError, match="TLS certificate verification failed") as caught:
            hook.get_agent_performance()
        assert isinstance(caught.value, AirflowFailException)
        assert send.call_count == 1  # not retried
        assert emulator.requests == []


def test_turning_verification_off_needs_an_explicit_extra_and_warns(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ConvosoEmulator(token="tls-token", ssl_context=_self_signed(tmp_path)) as emulator:
        monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_TLS", emulator.connection_json(verify=False))
        rows = ConvosoHook("convoso_tls").get_agent_performance()
        assert rows
        assert len(rows) == len(emulator.records({}))
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err
    assert "TLS verification is OFF for connection 'convoso_tls'" in text
