"""What every Convoso operator does with its records: XCom, object storage, assets, lineage.

One place for the output side, so an operator for another endpoint adds only its request:
the ``output_path`` checks, the XCom size guard, the asset events and the OpenLineage
facets are these. Imports stay light: the DAG processor imports operator modules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from airflow_provider_convoso.compat import asset, is_asset_alias, object_storage_path
from airflow_provider_convoso.exceptions import ConvosoInputError, ConvosoTaskStopped

DEFAULT_MAX_XCOM_BYTES = 1024 * 1024


class RecordsOutput:
    """Mixed into an operator that has ``output_path``, ``output_conn_id``,
    ``max_xcom_bytes``, ``outlets`` and ``log``.

    :attr:`lineage_name` names the Convoso dataset in OpenLineage; each operator sets its own.
    """

    lineage_name: ClassVar[str]
    output_path: Any
    output_conn_id: Any
    output_format: Any
    max_xcom_bytes: int
    csv_escape_formulas: bool
    outlets: Any
    log: Any
    _written: str | None = None
    _extracting = False

    def _stoppable(self, run: Callable[[Any], Any], context: Any) -> Any:
        """Run ``run(context)``, the operator's extract; while it runs, :meth:`on_kill` stops it.

        Each operator's ``execute`` calls this (Airflow wraps the ``execute`` a class defines).
        """
        self._extracting = True
        try:
            return run(context)
        finally:
            self._extracting = False

    def on_kill(self) -> None:
        """Stop a running extract when the task is told to stop (SIGTERM: a worker's warm
        shutdown, a task marked failed, a pod deleted).

        Airflow calls this in the task's own thread from the signal handler; raising there
        unwinds the extract, so its spool, temporary files, fetching thread and clients are
        released on the way out, and the target keeps the object it had. The error is not
        permanent: the task's retries run it again.

        :raises ConvosoTaskStopped: while an extract runs.
        """
        if self._extracting and threading.current_thread() is threading.main_thread():
            self._extracting = False
            raise ConvosoTaskStopped("the task was told to stop (SIGTERM); nothing was written")

    def _keep_output(
        self,
        output_path: str | None,
        output_conn_id: str | None,
        output_format: str | None,
        max_xcom_bytes: int,
        csv_escape_formulas: bool,
    ) -> None:
        """Keep the output arguments every Convoso operator takes."""
        self.output_path = output_path
        self.output_conn_id = output_conn_id
        self.output_format = output_format
        self.max_xcom_bytes = max_xcom_bytes
        self.csv_escape_formulas = csv_escape_formulas

    def _write_output(
        self, context: Any, path: Any, records: Callable[[], Iterable[dict[str, Any]]], fmt: str,
        *, columns: Sequence[str], kinds: Mapping[str, str] | None = None, what: str,
    ) -> dict[str, Any]:  # fmt: skip
        """Write ``records()`` to ``path`` atomically, as ``fmt``, under ``columns`` (with
        ``kinds``, the published table's: Parquet gives those columns their types; without,
        it infers them), then log and attach the object.

        :return: the summary's common members: ``path``, ``format``, ``rows``, ``bytes``, ``digest``.
        """
        from airflow_provider_convoso.digest import DigestObserver
        from airflow_provider_convoso.output import storage_uri, write_records

        digest = DigestObserver()
        rows, size = write_records(
            path,
            records,
            fmt,
            normalized=kinds is not None,
            csv_escape_formulas=self.csv_escape_formulas,
            columns=columns,
            kinds=kinds,
            observe=digest,
        )
        uri = storage_uri(str(self.output_path))
        self.log.info("Wrote %d %s (%d bytes, %s) to %s", rows, what, size, fmt, uri)
        self._wrote(context, uri)
        return {"path": uri, "format": fmt, "rows": rows, "bytes": size, **digest.summary()}

    def _storage_path(self, *, folder: bool = False) -> Any:
        """The output location, resolved before any request so a bad path fails first: a
        file, or with ``folder`` a folder or prefix (a trailing ``/`` allowed)."""
        from airflow_provider_convoso.output import check_output_path

        text = str(self.output_path).strip()
        text = text.rstrip("/") if folder else text
        check_output_path(text)
        try:
            path = object_storage_path(text, self.output_conn_id or None)
            path.fs  # noqa: B018 - 2.11 resolves the filesystem lazily; resolve it now
        except ValueError as error:
            raise ConvosoInputError(f"output_path {self.output_path!r} is not usable: {error}") from None
        local = path.protocol in ("", "file", "local")
        if local and not folder and path.is_dir():
            raise ConvosoInputError(f"output_path {self.output_path!r} is an existing folder, not a file")
        if local and folder and path.is_file():
            raise ConvosoInputError(f"output_path {self.output_path!r} is an existing file, not a folder")
        return path

    def _to_xcom(self, records: list[dict[str, Any]], measured: XComSize | None = None) -> list[dict[str, Any]]:
        """The records, if their compact JSON fits ``max_xcom_bytes``; ``measured`` is that
        size taken batch by batch as they arrived (otherwise they are encoded here)."""
        if measured is None:
            measured = XComSize()
            measured.add(records)
        if measured.bytes > self.max_xcom_bytes:
            raise ConvosoInputError(
                f"the result is {measured.bytes} bytes ({len(records)} rows), "
                f"over max_xcom_bytes={self.max_xcom_bytes}: "
                "set output_path to write it to object storage instead of XCom"
            )
        return records

    def _wrote(self, context: Any, uri: str) -> None:
        """Remember the written object for lineage; on Airflow 3, attach it to every ``AssetAlias`` outlet."""
        self._written = uri
        aliases = [outlet for outlet in (self.outlets or []) if is_asset_alias(outlet)]
        if not aliases:
            return
        events = context["outlet_events"]
        for alias in aliases:
            events[alias].add(asset(uri))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the Convoso dataset in, the written object out (when one was).

        :param task_instance: the finished task instance.
        :return: an ``OperatorLineage``, or ``None`` without an output or without OpenLineage.
        """
        if not self._written:
            return None
        try:
            from airflow.providers.common.compat.openlineage.facet import Dataset
            from airflow.providers.openlineage.extractors import OperatorLineage
        except ImportError:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(self._written)
        scheme = parts.scheme or "file"
        namespace = f"{scheme}://{parts.netloc}" if parts.netloc else scheme
        name = parts.path if scheme == "file" or not parts.netloc else parts.path.lstrip("/")
        return OperatorLineage(
            inputs=[Dataset(namespace="convoso", name=self.lineage_name)],
            outputs=[Dataset(namespace=namespace, name=name)],
        )


class XComSize:
    """The length of a list's compact JSON, added up batch by batch.

    A ``split_by_day`` result is measured day by day while later days are fetched, so the
    check after the last answer encodes one day, not the whole list.
    """

    def __init__(self) -> None:
        self._inner = 0  # the batches' JSON without their brackets
        self._batches = 0  # non-empty ones: each after the first adds a comma

    def add(self, batch: list[dict[str, Any]]) -> None:
        """Count the next batch of the list.

        :param batch: the records, in list order.
        """
        import msgspec

        if batch:
            # msgspec rather than json.dumps: it runs on every XCom result, up to max_xcom_bytes of JSON
            self._inner += len(msgspec.json.encode(batch, enc_hook=str)) - 2
            self._batches += 1

    @property
    def bytes(self) -> int:
        """Return the compact JSON length of every batch added, as one list."""
        return 2 + self._inner + max(self._batches - 1, 0)
