"""CallRecordingsOperator against the emulator: downloads, the manifest, reruns, failures, caps."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_convoso.compat import object_storage_path
from airflow_provider_convoso.endpoints.recordings import recordings_of
from airflow_provider_convoso.exceptions import ConvosoDownloadError, ConvosoInputError
from airflow_provider_convoso.operators.call_recordings import CallRecordingsOperator
from airflow_provider_convoso.testing import ConvosoEmulator

DAY = "2026-03-02"
PLAY = "/play-recording-public/"


def _op(output_path: str, **kwargs: Any) -> CallRecordingsOperator:
    kwargs.setdefault("task_id", "recordings")
    kwargs.setdefault("date", DAY)
    return CallRecordingsOperator(output_path=output_path, **kwargs)


def _downloads(emulator: ConvosoEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.path.startswith(PLAY)]


def _manifest(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines()]


def test_each_recording_is_downloaded_once_with_a_manifest_line(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    result = _op(str(folder) + "/", max_concurrency=4).execute({})
    lines = _manifest(folder)
    assert result["recordings"] == len(lines) == result["downloaded"] > 20 and result["failed"] == 0
    assert result["manifest"] == f"file://{folder}/manifest.jsonl" and result["calls"] > len(lines)
    for line in lines:
        body = (folder / line["name"]).read_bytes()
        assert line["status"] == "downloaded" and line["reason"] is None
        assert body == convoso_conn.recording_audio(line["call_id"]) and line["bytes"] == len(body)
        assert line["sha256"] == hashlib.sha256(body).hexdigest()
        assert line["name"] == f"{line['call_id']}_{line['recording_id']}.mp3"
        assert line["path"] == f"file://{folder}/{line['name']}"
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(line["name"] for line in lines), "manifest.jsonl"])
    assert result["bytes"] == sum(line["bytes"] for line in lines)
    downloads = _downloads(convoso_conn)
    assert len(downloads) == len(lines)
    assert all(r.method == "GET" and not r.token_in_body and not r.token_in_query for r in downloads)
    logs = [r for r in convoso_conn.requests if r.path == "/v1/log/retrieve"]
    assert logs and all(r.params["include_recordings"] == "1" for r in logs)


def test_a_rerun_downloads_nothing_already_in_place(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    first = _op(str(tmp_path)).execute({})
    convoso_conn.reset_log()
    second = _op(str(tmp_path)).execute({})
    assert _downloads(convoso_conn) == []
    assert second["skipped_existing"] == first["downloaded"] and second["downloaded"] == 0
    assert {line["status"] for line in _manifest(tmp_path)} == {"skipped_existing"}
    assert all(line["sha256"] and line["bytes"] for line in _manifest(tmp_path))
    # A file gone or cut short since is fetched again; the rest are not.
    lines = _manifest(tmp_path)
    (tmp_path / lines[0]["name"]).unlink()
    (tmp_path / lines[1]["name"]).write_bytes(b"ID3 cut")
    convoso_conn.reset_log()
    third = _op(str(tmp_path)).execute({})
    assert third["downloaded"] == 2 and len(_downloads(convoso_conn)) == 2
    assert (tmp_path / lines[1]["name"]).read_bytes() == convoso_conn.recording_audio(lines[1]["call_id"])


def test_failed_downloads_leave_no_file_and_a_reason(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    convoso_conn.configure(
        recording_tiny_every=5, recording_missing_every=7, recording_expired_every=11, recording_no_link_every=13
    )
    result = _op(str(tmp_path)).execute({})
    lines = {line["call_id"]: line for line in _manifest(tmp_path)}
    reasons = {line["reason"] for line in lines.values() if line["status"] == "failed"}
    assert reasons == {
        "not audio (content type text/html)",
        "not found (HTTP 404)",
        "the link was refused or has expired (HTTP 403)",
        "no downloadable link (no public_url; src is not a URL)",
    }
    for call_id, line in lines.items():
        number = int(call_id)
        failed = any(number % n == 0 for n in (5, 7, 11, 13))
        assert (line["status"] == "failed") == failed
        assert (tmp_path / line["name"]).exists() == (not failed)
        if failed:
            assert line["path"] is None and line["bytes"] is None and line["sha256"] is None
    assert (
        result["failed"]
        == sum(result["failures"].values())
        == sum(1 for x in lines.values() if x["status"] == "failed")
    )


def test_max_failed_fails_the_task_after_writing_the_manifest(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    convoso_conn.configure(recording_missing_every=3)
    with pytest.raises(ConvosoDownloadError, match=r"recordings failed, over max_failed=0") as caught:
        _op(str(tmp_path), max_failed=0).execute({})
    assert not isinstance(caught.value, ConvosoInputError)  # a retry may succeed
    assert any(line["status"] == "failed" for line in _manifest(tmp_path))
    failed = sum(1 for line in _manifest(tmp_path) if line["status"] == "failed")
    assert _op(str(tmp_path), max_failed=failed).execute({})["failed"] == failed


def test_a_body_of_1000_bytes_or_less_or_over_the_cap_is_not_kept(
    convoso_conn: ConvosoEmulator, tmp_path: Path
) -> None:
    convoso_conn.configure(recording_bytes=1000)
    tiny = _op(str(tmp_path / "tiny")).execute({})
    assert tiny["downloaded"] == 0 and tiny["failures"] == {"a body of 1000 bytes is not a recording": tiny["failed"]}
    convoso_conn.configure(recording_bytes=300_000)
    capped = _op(str(tmp_path / "capped"), max_file_bytes=200_000).execute({})
    assert capped["downloaded"] == 0 and capped["failures"] == {"larger than max_file_bytes=200000": capped["failed"]}
    assert [p.name for p in (tmp_path / "capped").iterdir()] == ["manifest.jsonl"]


def test_downloads_are_retried_and_bounded_in_time(
    convoso_conn: ConvosoEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, conn_json: Any
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CONVOSO_DEFAULT", conn_json(convoso_conn, timeout=0.3, max_retries=1))
    convoso_conn.configure(recording_latency=1.0)
    result = _op(str(tmp_path), user_id="10001").execute({})
    assert result["recordings"] and result["failures"] == {
        "still failing after retries: Convoso request still failing after 2 attempts: "
        "the download took longer than timeout=0.3s": result["recordings"]
    }
    assert len(_downloads(convoso_conn)) == 2 * result["recordings"]


def test_downloads_run_max_concurrency_at_a_time(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    convoso_conn.configure(recording_latency=0.05)
    assert _op(str(tmp_path), user_id="10001", max_concurrency=3).execute({})["downloaded"] > 6
    assert convoso_conn.max_in_flight == 3


def test_recordings_land_in_s3(convoso_conn: ConvosoEmulator, s3_bucket: str) -> None:
    uri = f"s3://{s3_bucket}/recordings/dt={DAY}"
    result = _op(uri, output_conn_id="aws_moto", user_id="10001").execute({})
    manifest = object_storage_path(uri + "/manifest.jsonl", "aws_moto").read_text().splitlines()
    first = json.loads(manifest[0])
    body = object_storage_path(f"{uri}/{first['name']}", "aws_moto").read_bytes()
    assert body == convoso_conn.recording_audio(first["call_id"]) and first["path"] == f"{uri}/{first['name']}"
    assert result["downloaded"] == len(manifest)
    convoso_conn.reset_log()
    assert _op(uri, output_conn_id="aws_moto", user_id="10001").execute({})["skipped_existing"] == len(manifest)
    assert _downloads(convoso_conn) == []


def test_an_output_path_that_is_a_file_is_refused_before_any_request(
    convoso_conn: ConvosoEmulator, tmp_path: Path
) -> None:
    (tmp_path / "file.mp3").write_bytes(b"x")
    with pytest.raises(ConvosoInputError, match="not a folder"):
        _op(str(tmp_path / "file.mp3")).execute({})
    assert not convoso_conn.requests


def test_server_ids_become_safe_unique_file_names() -> None:
    calls = [
        {"id": "1", "recording": [{"recording_id": "../../etc/passwd", "public_url": "https://x.example/a"}]},
        {"id": "1", "recording": [{"recording_id": "..-..-etc-passwd", "type": "wav"}]},
        {"id": "2", "recording": [{"recording_id": None, "src": "https://x.example/b.wav"}, "not an object"]},
        {"id": "3", "recording": [{"recording_id": "r3", "src": "3-all.mp3", "public_url": None}]},
        {"id": "3", "recording": [{"recording_id": "r3"}]},  # the same recording again
        {"id": "4", "recording": None},
    ]
    found = recordings_of(calls)
    assert [(r.call_id, r.recording_id, r.name) for r in found] == [
        ("1", "../../etc/passwd", "1_etc_passwd.mp3"),
        ("1", "..-..-etc-passwd", "1_-..-etc-passwd.wav"),
        ("2", "2-0", "2_2-0.wav"),
        ("3", "r3", "3_r3.mp3"),
    ]
    assert [r.link for r in found] == ["https://x.example/a", None, "https://x.example/b.wav", None]
    assert all("x.example" not in repr(r) for r in found)
