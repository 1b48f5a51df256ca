"""An order-independent digest of records: did this answer (or this output) change?

Pure: no Airflow. Each record is encoded as compact JSON (msgspec, keys in the record's
own order) and hashed with CRC-32; the digest is the sum of the hashes over all records,
so it does not depend on the order records arrive in, and it is built batch by batch
without holding them. It detects changes (a changed record goes unnoticed with odds of
about one in four billion); it is not a cryptographic fingerprint.

The sensor and the operator build it from the same typed records, so the sensor's digest
of a day equals the digest of what the operator writes for it (``split_by_day`` adds a
``date`` to every record, and ``normalize=False`` writes the records untyped: both change
the digest, as they change the output).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from typing import Any

import msgspec

from airflow_provider_convoso.output import Observer

_BATCH = 1024


class RecordDigest:
    """Accumulate records (or their JSON lines) into a digest and a row count."""

    __slots__ = ("_crc", "_encode_lines", "rows")

    def __init__(self) -> None:
        self._crc = 0
        self.rows = 0
        self._encode_lines = msgspec.json.Encoder().encode_lines

    def add_batch(self, records: list[dict[str, Any]]) -> None:
        """Add a batch of records.

        :param records: typed (or raw) records, each a JSON-encodable dict.
        """
        if records:
            self.add_lines(self._encode_lines(records))

    def add_lines(self, lines: bytes) -> None:
        """Add records already encoded as JSON lines (``Encoder.encode_lines`` output).

        The JSONL writer hands over the bytes it writes, so the digest costs no second encoding.

        :param lines: newline-terminated JSON objects.
        """
        parts = lines.split(b"\n")
        parts.pop()  # the empty piece after the last newline
        # map/sum keep the per-record loop in C: a Python loop here costs more than the hashing.
        self._crc += sum(map(zlib.crc32, parts))
        self.rows += len(parts)

    def add_all(self, records: Iterable[dict[str, Any]]) -> RecordDigest:
        """Add every record of an iterable, a batch at a time.

        :param records: the records.
        :return: this digest.
        """
        batch: list[dict[str, Any]] = []
        for record in records:
            batch.append(record)
            if len(batch) == _BATCH:
                self.add_batch(batch)
                batch = []
        self.add_batch(batch)
        return self

    def hexdigest(self) -> str:
        """Return the digest: 16 hexadecimal digits, the same for the same records in any order.

        :return: the digest.
        """
        # The sum itself has leading zeros (n records of 32 bits each); a final hash of the
        # sum and the count spreads it over every digit.
        return hashlib.blake2b(f"{self._crc}:{self.rows}".encode(), digest_size=8).hexdigest()


class DigestObserver(Observer):
    """The digest of the records of one write, watched on their way into storage.

    The JSONL and JSON writers hand over the lines they write, so the digest encodes nothing again.
    """

    def __init__(self) -> None:
        self.digest = RecordDigest()

    def start(self) -> None:
        """Begin a pass: a fresh digest."""
        self.digest = RecordDigest()

    def batch(self, records: list[dict[str, Any]], lines: bytes | None) -> None:
        """Add a batch to the digest (from its JSON lines when given).

        :param records: the batch.
        :param lines: its JSON lines, if the writer made them.
        """
        if lines is None:
            self.digest.add_batch(records)
        else:
            self.digest.add_lines(lines)

    def summary(self) -> dict[str, Any]:
        """Return the members an operator's XCom summary gains.

        :return: ``{"digest": ...}``.
        """
        return {"digest": self.digest.hexdigest()}
