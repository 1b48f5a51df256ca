"""What the operator learns about the records it writes: their digest and their quality.

Pure: no Airflow. :class:`Inspection` watches the records on their way into storage (as
an :class:`output.Observer`) or in a list bound for XCom, and gives the summary's
``digest`` and ``quality`` members; with ``quality_checks="fail"`` it stops the write
before the object is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from airflow_provider_convoso.digest import DigestObserver
from airflow_provider_convoso.endpoints.agent_performance.quality import MODES, QualityReport, check_tolerances
from airflow_provider_convoso.endpoints.agent_performance.records import normalize_record
from airflow_provider_convoso.exceptions import ConvosoDataQualityError, ConvosoResponseError


def check_mode(mode: Any) -> str:
    """Validate a ``quality_checks`` value.

    :param mode: ``"off"``, ``"warn"`` or ``"fail"``.
    :return: the mode.
    :raises ValueError: any other value.
    """
    if mode not in MODES:
        raise ValueError(f"quality_checks must be one of {', '.join(MODES)}, got {mode!r}")
    return str(mode)


class Inspection(DigestObserver):
    """Digest and quality checks over the records of one write.

    :param mode: ``quality_checks``: ``"off"``, ``"warn"`` or ``"fail"``.
    :param tolerances: per-rule tolerance overrides.
    :param typed: the records are typed; untyped ones (``normalize=False``) are checked
        through a typed copy, and one that cannot be typed is left out of the checks.
    :param log: where the WARNING lines go.
    """

    def __init__(self, mode: str, tolerances: Mapping[str, float] | None, *, typed: bool, log: logging.Logger) -> None:
        self._mode = check_mode(mode)
        self._tolerances = check_tolerances(tolerances)
        self._typed = typed
        self._log = log
        self.quality: QualityReport | None = None
        self.start()

    def start(self) -> None:
        """Begin a pass: a fresh digest and report."""
        super().start()
        self.quality = None if self._mode == "off" else QualityReport(self._tolerances)

    def batch(self, records: list[dict[str, Any]], lines: bytes | None) -> None:
        """Add a batch to the digest (from its JSON lines when given) and check it.

        :param records: the batch.
        :param lines: its JSON lines, if the writer made them.
        """
        super().batch(records, lines)
        if self.quality is not None:
            self.quality.add_batch(records if self._typed else _typed_copies(records))

    def done(self) -> None:
        """Log each broken rule; with ``fail``, raise if a rule that is not advisory broke.

        :raises ConvosoDataQualityError: in ``fail`` mode, naming each broken rule.
        """
        if self.quality is None:
            return
        lines = self.quality.lines()
        for line in lines:
            self._log.warning("%s", line)
        failing = self.quality.broken(failing_only=True)
        if self._mode == "fail" and failing:
            raise ConvosoDataQualityError(
                f"{len(failing)} data-quality rule(s) broken, nothing written: " + "; ".join(lines),
                report=self.quality.summary(),
            )

    def summary(self) -> dict[str, Any]:
        """Return the members the operator's XCom summary gains.

        :return: ``{"digest": ...}`` plus ``{"quality": ...}`` unless the checks are off.
        """
        members = super().summary()
        if self.quality is not None:
            members["quality"] = self.quality.summary()
        return members

    def inspect(self, records: list[dict[str, Any]]) -> None:
        """Inspect a whole list at once (the XCom path).

        :param records: every record.
        """
        self.start()
        for start in range(0, len(records), 1024):
            self.batch(records[start : start + 1024], None)
        self.done()


def _typed_copies(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    typed = []
    for record in records:
        try:
            typed.append(normalize_record(record))
        except ConvosoResponseError:
            continue  # a value the typing refuses: nothing to check it against
    return typed
