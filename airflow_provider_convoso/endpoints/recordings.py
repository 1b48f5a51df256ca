"""Call recordings: their links in call-log rows, what counts as a recording, the manifest.

Pure: no Airflow, no httpx. :func:`download_all` takes ``fetch`` (the hook's downloader:
transport, caps and retries are its own) and ``store`` (the operator's: where a file goes).

Links are bearer links: :class:`Recording` keeps one out of its ``repr``, and nothing here
puts one in a message, a log line or a manifest line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from airflow_provider_convoso._tempfiles import temp_tag
from airflow_provider_convoso.exceptions import ConvosoTransientError

#: A body this small is not a recording: one client skips them "due to weird convoso error".
MIN_AUDIO_BYTES = 1000

#: The manifest's name in the output folder.
MANIFEST = "manifest.jsonl"

DOWNLOADED, SKIPPED_EXISTING, FAILED = "downloaded", "skipped_existing", "failed"

_EXTENSIONS = ("mp3", "wav", "ogg", "gsm", "m4a")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_CONTENT_TYPE = re.compile(r"[^A-Za-z0-9/.+-]+")


@dataclasses.dataclass(frozen=True)
class Recording:
    """One recording of a call: where its file goes, and the link to fetch it (never shown)."""

    call_id: str
    recording_id: str
    call_date: str | None
    name: str
    link: str | None = dataclasses.field(default=None, repr=False)
    existing: Mapping[str, Any] | None = dataclasses.field(default=None, repr=False)


def _safe(text: str) -> str:
    cleaned = _UNSAFE.sub("_", text).strip("._")
    return cleaned[:80] or "x"


def _link(recording: Mapping[str, Any]) -> str | None:
    """``public_url``, else ``src``, if it is an absolute http(s) URL (``src`` is often a bare name)."""
    for field in ("public_url", "src"):
        value = recording.get(field)
        if isinstance(value, str):
            parts = urlsplit(value.strip())
            if parts.scheme in ("http", "https") and parts.netloc:
                return value.strip()
    return None


def _extension(recording: Mapping[str, Any]) -> str:
    kind = str(recording.get("type") or "").lower().strip(".")
    if kind in _EXTENSIONS:
        return kind
    for field in ("filename", "src"):
        suffix = str(recording.get(field) or "").rsplit(".", 1)[-1].lower()
        if suffix in _EXTENSIONS:
            return suffix
    return "mp3"


def recordings_of(calls: Iterable[Mapping[str, Any]]) -> list[Recording]:
    """Return every recording of the calls, each once, with a file name safe on any storage.

    A name is ``<call id>_<recording id>.<type>``, both ids reduced to letters, digits,
    ``_``, ``.`` and ``-`` (they come from the server); a name taken twice gets a suffix.

    :param calls: typed call-log records read with ``include_recordings``.
    :return: the recordings, in call order.
    """
    found: list[Recording] = []
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    for call in calls:
        objects = call.get("recording")
        if not isinstance(objects, list):
            continue
        call_id = str(call.get("id"))
        for index, recording in enumerate(objects):
            if not isinstance(recording, Mapping):
                continue
            given = recording.get("recording_id")
            recording_id = str(given) if isinstance(given, str | int) and str(given).strip() else f"{call_id}-{index}"
            if (call_id, recording_id) in seen:
                continue
            seen.add((call_id, recording_id))
            stem, extension = f"{_safe(call_id)}_{_safe(recording_id)}", _extension(recording)
            name, number = f"{stem}.{extension}", 1
            while name in names:
                number += 1
                name = f"{stem}_{number}.{extension}"
            names.add(name)
            call_date = call.get("call_date")
            found.append(
                Recording(
                    call_id, recording_id, call_date if isinstance(call_date, str) else None, name, _link(recording)
                )
            )
    return found


def read_manifest(content: bytes | None) -> dict[str, dict[str, Any]]:
    """Return a previous run's manifest by file name (a line that does not parse is ignored).

    :param content: the manifest's bytes, or ``None`` when there is none.
    :return: file name -> its line.
    """
    lines: dict[str, dict[str, Any]] = {}
    for raw in (content or b"").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and isinstance(line.get("name"), str):
            lines[line["name"]] = line
    return lines


def with_existing(
    recordings: list[Recording], previous: Mapping[str, Mapping[str, Any]], present: Mapping[str, int]
) -> list[Recording]:
    """Mark each recording whose file is already in place: the previous manifest kept it, and
    a file of the size it recorded is there.

    :param recordings: what the calls hold.
    :param previous: the previous manifest, by file name.
    :param present: file name -> size of what the folder holds now.
    :return: the recordings, those already in place carrying their previous line.
    """
    marked = []
    for recording in recordings:
        line = previous.get(recording.name)
        kept = line is not None and line.get("status") in (DOWNLOADED, SKIPPED_EXISTING)
        in_place = kept and line is not None and present.get(recording.name) == line.get("bytes")
        marked.append(dataclasses.replace(recording, existing=line) if in_place else recording)
    return marked


def accept(status: int, content_type: str) -> str | None:
    """Return why an answer is not a recording (by status, then content type), or ``None``.

    :param status: the HTTP status (after redirects).
    :param content_type: its ``Content-Type``.
    :return: the reason, or ``None`` for an audio answer.
    """
    if status == 404:
        return "not found (HTTP 404)"
    if status in (401, 403, 410):
        return f"the link was refused or has expired (HTTP {status})"
    if status != 200:
        return f"HTTP {status}"
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if not (kind.startswith("audio/") or kind == "application/octet-stream"):
        return f"not audio (content type {_CONTENT_TYPE.sub('', kind)[:40] or 'none'})"
    return None


def _line(recording: Recording, status: str, **fields: Any) -> dict[str, Any]:
    line = {
        "call_id": recording.call_id,
        "recording_id": recording.recording_id,
        "call_date": recording.call_date,
        "name": recording.name,
        "path": None,
        "bytes": None,
        "sha256": None,
        "status": status,
        "reason": None,
    }
    line.update(fields)
    return line


Fetch = Callable[[str, BinaryIO, Callable[[int, str], str | None]], Awaitable[Any]]


async def download_all(
    recordings: list[Recording],
    fetch: Fetch,
    store: Callable[[Recording, Path], str],
    *,
    max_concurrency: int,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> list[dict[str, Any]]:
    """Download every recording not already in place, ``max_concurrency`` at a time.

    Each body streams into a temporary file of a private folder (removed on every path);
    one that passes :func:`accept`, the size cap and :data:`MIN_AUDIO_BYTES` goes to
    ``store`` in a worker thread; any other is a ``failed`` line, and no file.

    :param recordings: from :func:`recordings_of`, marked by :func:`with_existing`.
    :param fetch: ``fetch(link, sink, accept)`` (the hook's downloader).
    :param store: ``store(recording, local_file) -> uri``, atomic.
    :param max_concurrency: downloads in flight at once.
    :param log: where each failure is logged (ids and reason, never the link).
    :return: one manifest line per recording, in their order.
    """
    gate = asyncio.Semaphore(max_concurrency)

    async def one(recording: Recording, folder: Path) -> dict[str, Any]:
        if recording.existing is not None:
            previous = recording.existing
            return _line(
                recording, SKIPPED_EXISTING, path=previous.get("path"), bytes=previous.get("bytes"),
                sha256=previous.get("sha256"),
            )  # fmt: skip
        if recording.link is None:
            return _line(recording, FAILED, reason="no downloadable link (no public_url; src is not a URL)")
        async with gate:
            local = folder / recording.name
            try:
                with open(local, "wb") as sink:
                    fetched = await fetch(recording.link, sink, accept)
                if fetched.refused is not None:
                    return _line(recording, FAILED, reason=fetched.refused)
                if fetched.size <= MIN_AUDIO_BYTES:
                    return _line(recording, FAILED, reason=f"a body of {fetched.size} bytes is not a recording")
                uri = await asyncio.to_thread(store, recording, local)
                return _line(recording, DOWNLOADED, path=uri, bytes=fetched.size, sha256=fetched.sha256)
            except ConvosoTransientError as error:
                return _line(recording, FAILED, reason=f"still failing after retries: {error.args[0]}")
            finally:
                local.unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix=temp_tag() + "-", suffix="-recordings") as name:
        lines = await asyncio.gather(*(one(recording, Path(name)) for recording in recordings))
    for line in lines:
        if line["status"] == FAILED:
            log.info("Recording %s of call %s failed: %s", line["recording_id"], line["call_id"], line["reason"])
    return list(lines)


def summary(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Count a run's lines: per status, bytes downloaded, and failures per reason.

    :param lines: the manifest lines.
    :return: ``recordings``, ``downloaded``, ``skipped_existing``, ``failed``, ``bytes``, ``failures``.
    """
    counts = {
        status: sum(1 for line in lines if line["status"] == status)
        for status in (DOWNLOADED, SKIPPED_EXISTING, FAILED)
    }
    failures: dict[str, int] = {}
    for line in lines:
        if line["status"] == FAILED:
            failures[line["reason"]] = failures.get(line["reason"], 0) + 1
    downloaded = sum(line["bytes"] or 0 for line in lines if line["status"] == DOWNLOADED)
    return {"recordings": len(lines), **counts, "bytes": downloaded, "failures": failures}
