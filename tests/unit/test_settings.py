"""Connection settings and base-URL normalisation (pure module)."""

from __future__ import annotations

import pytest

from airflow_provider_convoso.settings import ClientSettings, normalize_base_url, resolve_settings


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "https://api.convoso.com/v1"),
        ("", None, "https://api.convoso.com/v1"),
        ("https://api.convoso.com/v1", None, "https://api.convoso.com/v1"),
        ("https://api.convoso.com/v1/", None, "https://api.convoso.com/v1"),
        ("https://api.convoso.com", None, "https://api.convoso.com/v1"),
        ("api.convoso.com", None, "https://api.convoso.com/v1"),
        ("api.convoso.com:8443", None, "https://api.convoso.com:8443/v1"),
        ("api.convoso.com", 8443, "https://api.convoso.com:8443/v1"),
        ("https://proxy.example/convoso", None, "https://proxy.example/convoso/v1"),
        ("http://127.0.0.1:8080", None, "http://127.0.0.1:8080/v1"),
        ("http://localhost", 9000, "http://localhost:9000/v1"),
        ("http://[::1]:9000/v1", None, "http://[::1]:9000/v1"),
    ],
)
def test_base_url_forms_normalise(host: str | None, port: int | None, expected: str) -> None:
    assert normalize_base_url(host, port) == expected


@pytest.mark.parametrize(
    ("host", "port", "message"),
    [
        ("http://api.convoso.com", None, "refusing plain http://"),
        ("http://10.0.0.5:8080", None, "refusing plain http://"),
        ("ftp://api.convoso.com", None, "scheme 'ftp'"),
        ("https://user:pw@api.convoso.com", None, "credentials"),
        ("https://api.convoso.com:8443", 9443, "disagrees"),
        ("https://api.convoso.com?auth_token=x", None, "query"),
    ],
)
def test_bad_base_urls_are_refused(host: str, port: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_base_url(host, port)


def test_extras_and_overrides() -> None:
    settings = resolve_settings(
        host=None,
        port=None,
        password="secret-token",
        extra={"timeout": "12", "max_retries": 2, "request_format": "FORM", "verify": "false"},
        overrides={"max_retries": 7, "retry_backoff": None},
    )
    assert settings == ClientSettings(
        token="secret-token", timeout=12.0, max_retries=7, request_format="form", verify=False
    )
    assert "secret-token" not in repr(settings)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"timeout": "soon"}, "timeout must be a number"),
        ({"timeout": 0}, "timeout must be at least"),
        ({"max_retries": -1}, "max_retries must be at least 0"),
        ({"max_retries": 1.5}, "max_retries must be an integer"),
        ({"request_format": "xml"}, "request_format must be 'form' or 'json'"),
        ({"verify": "maybe"}, "verify must be true or false"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone must be an IANA time-zone name"),
        ({"timezone": "../../etc/passwd"}, "timezone must be an IANA time-zone name"),
        ({"timezone": "/usr/share/zoneinfo/UTC"}, "timezone must be an IANA time-zone name"),
    ],
)
def test_bad_extras_name_the_extra(extra: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_settings(host=None, port=None, password="t", extra=extra, overrides={})


def test_timezone_extra_defaults_to_utc_and_is_kept() -> None:
    assert resolve_settings(host=None, port=None, password="t", extra={}, overrides={}).timezone == "UTC"
    settings = resolve_settings(
        host=None, port=None, password="t", extra={"timezone": " America/Los_Angeles "}, overrides={}
    )
    assert settings.timezone == "America/Los_Angeles"


def test_missing_token_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no auth token"):
        resolve_settings(host=None, port=None, password=None, extra={}, overrides={})
