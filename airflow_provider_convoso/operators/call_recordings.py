"""CallRecordingsOperator: each call's recording of a window, downloaded into object storage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_convoso.compat import BaseOperator
from airflow_provider_convoso.endpoints.call_logs import FILTERS as CALL_LOG_FILTERS
from airflow_provider_convoso.hooks.convoso import ConvosoHook
from airflow_provider_convoso.operators._output import RecordsOutput
from airflow_provider_convoso.operators.call_logs import CallWindow

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_convoso.endpoints.recordings import Recording

#: The largest recording kept by default: hours of call audio, far past any one call.
DEFAULT_MAX_FILE_BYTES = 200 * 1024 * 1024


class CallRecordingsOperator(CallWindow, RecordsOutput, BaseOperator):
    """Download the recording of every call of a window into a folder, with a manifest.

    The calls are read as ``CallLogsOperator`` reads them (``date``, or
    ``start_time``/``end_time``, ``lookback`` and the same filters), with
    ``include_recordings=1``; each recording is fetched through its link (``public_url``,
    else ``src`` when it is a URL) with no token, ``max_concurrency`` at a time, streamed
    to a temporary file and written to ``<output_path>/<call id>_<recording id>.<type>``
    atomically. ``manifest.jsonl`` beside them has one line per recording: ``call_id``,
    ``recording_id``, ``call_date``, ``name``, ``path``, ``bytes``, ``sha256``, ``status``
    (``downloaded``, ``skipped_existing`` or ``failed``) and ``reason``.

    A rerun downloads nothing already in place: a file the previous manifest kept, of the
    size it recorded, is ``skipped_existing``. A 404, a refused or expired link, an answer
    that is not audio, a body of 1,000 bytes or less, or one over ``max_file_bytes`` is a
    ``failed`` line and no file. Recording links are bearer links (anyone holding one can
    play the call): they appear in no log, error, XCom, manifest or rendered field.

    The result (XCom) is ``{"path", "manifest", "recordings", "downloaded",
    "skipped_existing", "failed", "bytes", "failures", "start_time", "end_time", "calls"}``.

    :param date: an account-local day, ``YYYY-MM-DD`` or a date (templated); or give
        ``start_time`` and ``end_time`` (templated).
    :param output_path: the folder or prefix the files go to (templated): a local path or
        any object-storage URL the other operators write to.
    :param output_conn_id: the object store's connection (templated).
    :param lookback: how much earlier than the window's start to begin (``timedelta`` or seconds).
    :param max_concurrency: downloads (and call-log pages) in flight at once (at most 32).
    :param max_file_bytes: the largest recording kept.
    :param max_failed: fail the task when more recordings than this failed (after writing
        the manifest; a retry downloads only what is missing); ``None`` never does.

    The call-log filters (``user_id``, ``campaign_id``, ``status``, ...) take one value each (templated).
    """

    template_fields: Sequence[str] = (
        "convoso_conn_id",
        "date",
        "start_time",
        "end_time",
        *CALL_LOG_FILTERS,
        "output_path",
        "output_conn_id",
    )
    ui_color = "#f3e1f7"
    ui_fgcolor = "#5b1f6b"
    lineage_name: ClassVar[str] = "call-recordings"

    def __init__(
        self,
        *,
        output_path: str,
        convoso_conn_id: str = ConvosoHook.default_conn_name,
        date: Any = None,
        start_time: Any = None,
        end_time: Any = None,
        lookback: dt.timedelta | float | None = None,
        max_concurrency: int = 8,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_failed: int | None = None,
        output_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        filters = {name: kwargs.pop(name, None) for name in CALL_LOG_FILTERS}
        super().__init__(**kwargs)
        self.convoso_conn_id = convoso_conn_id
        self.include_recordings = True
        self._keep_window(date, start_time, end_time, lookback, filters, max_concurrency)
        self._keep_output(output_path, output_conn_id, None, 0, False)
        if isinstance(max_file_bytes, bool) or not isinstance(max_file_bytes, int) or max_file_bytes < 1:
            raise ValueError(f"max_file_bytes must be a positive integer, got {max_file_bytes!r}")
        if max_failed is not None and (
            isinstance(max_failed, bool) or not isinstance(max_failed, int) or max_failed < 0
        ):
            raise ValueError(f"max_failed must be a non-negative integer or None, got {max_failed!r}")
        self.max_file_bytes = max_file_bytes
        self.max_failed = max_failed

    def execute(self, context: Any) -> Any:
        return self._stoppable(self._extract_all, context)

    def _extract_all(self, context: Any) -> Any:
        import json

        from airflow_provider_convoso.endpoints import recordings
        from airflow_provider_convoso.endpoints.call_logs.records import spooled_records
        from airflow_provider_convoso.exceptions import ConvosoDownloadError
        from airflow_provider_convoso.output import copy_atomically, storage_uri, write_atomically
        from airflow_provider_convoso.spool import BodySpool

        folder = self._storage_path(folder=True)
        base = storage_uri(str(self.output_path).strip().rstrip("/"))
        hook = ConvosoHook(convoso_conn_id=self.convoso_conn_id)
        query = self.query(hook.settings.timezone)
        with BodySpool() as spool:
            stats = hook.read_call_logs(query, spool, max_concurrency=self.max_concurrency)
            with hook.explained():
                found = recordings.recordings_of(spooled_records(spool, [0]))
        present = _sizes(folder)
        manifest = folder / recordings.MANIFEST
        previous = recordings.read_manifest(manifest.read_bytes() if recordings.MANIFEST in present else None)
        planned = recordings.with_existing(found, previous, present)
        self.log.info(
            "Call logs %s - %s: %d recordings, %d already in place", query.start_time, query.end_time, len(planned),
            sum(1 for recording in planned if recording.existing is not None),
        )  # fmt: skip

        def store(recording: Recording, local: Path) -> str:
            copy_atomically(local, folder / recording.name)
            return f"{base}/{recording.name}"

        lines = hook.download_recordings(
            planned, store, max_concurrency=self.max_concurrency, max_file_bytes=self.max_file_bytes
        )
        write_atomically(manifest, b"".join(json.dumps(line).encode() + b"\n" for line in lines))
        self._wrote(context, base)
        result = {
            "path": base,
            "manifest": f"{base}/{recordings.MANIFEST}",
            **recordings.summary(lines),
            "start_time": query.start_time,
            "end_time": query.end_time,
            "calls": sum(int(window["total_found"]) for window in stats.windows),
        }
        self.log.info(
            "Recordings: %d downloaded (%d bytes), %d already in place, %d failed; manifest %s",
            result["downloaded"], result["bytes"], result["skipped_existing"], result["failed"], result["manifest"],
        )  # fmt: skip
        if self.max_failed is not None and result["failed"] > self.max_failed:
            raise ConvosoDownloadError(
                f"{result['failed']} recordings failed, over max_failed={self.max_failed}: "
                f"{result['failures']} (the manifest lists each; a retry downloads only what is missing)"
            )
        return result


def _sizes(folder: Any) -> dict[str, int]:
    """File name -> size of what the folder holds now (nothing when it does not exist yet)."""
    try:
        entries = folder.fs.ls(folder.path, detail=True)
    except (FileNotFoundError, NotADirectoryError):
        return {}
    sizes = {}
    for entry in entries:
        if entry.get("type") == "file":
            sizes[str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]] = int(entry.get("size") or 0)
    return sizes
