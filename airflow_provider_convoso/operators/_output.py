"""What every Convoso operator does with its records: XCom, object storage, assets, lineage.

One place for the output side, so an operator for another endpoint adds only its request:
the ``output_path`` checks, the XCom size guard, the asset events and the OpenLineage
facets are these. Imports stay light: the DAG processor imports operator modules.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from airflow_provider_convoso.compat import asset, is_asset_alias, object_storage_path
from airflow_provider_convoso.exceptions import ConvosoInputError

DEFAULT_MAX_XCOM_BYTES = 1024 * 1024


class RecordsOutput:
    """Mixed into an operator that has ``output_path``, ``output_conn_id``,
    ``max_xcom_bytes``, ``outlets`` and ``log``.

    :attr:`lineage_name` names the Convoso dataset in OpenLineage.
    """

    lineage_name: ClassVar[str] = "agent-performance"
    output_path: Any
    output_conn_id: Any
    max_xcom_bytes: int
    outlets: Any
    log: Any
    _written: str | None = None

    def _storage_path(self) -> Any:
        """The output location, resolved before any request so a bad path fails first."""
        from airflow_provider_convoso.output import check_output_path

        check_output_path(str(self.output_path))
        try:
            path = object_storage_path(str(self.output_path), self.output_conn_id or None)
            path.fs  # noqa: B018 - 2.11 resolves the filesystem lazily; resolve it now
        except ValueError as error:
            raise ConvosoInputError(f"output_path {self.output_path!r} is not usable: {error}") from None
        if path.protocol in ("", "file", "local") and path.is_dir():
            raise ConvosoInputError(f"output_path {self.output_path!r} is an existing folder, not a file")
        return path

    def _to_xcom(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records, if their JSON fits ``max_xcom_bytes``."""
        size = len(json.dumps(records, default=str).encode("utf-8"))  # datetimes are XCom-serialisable
        if size > self.max_xcom_bytes:
            raise ConvosoInputError(
                f"the result is {size} bytes ({len(records)} rows), over max_xcom_bytes={self.max_xcom_bytes}: "
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
