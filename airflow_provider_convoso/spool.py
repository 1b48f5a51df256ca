"""Answers kept on local disk between fetching and writing.

Pure: no Airflow. A ``split_by_day`` backfill fetches days concurrently and writes them in
day order; holding every answer in memory until then would grow with the range (a year of
a 20,000-agent account is about 2.4 GB of JSON). The spool holds one day at a time, and
keeps the answers compressed (zlib level 1: about a fifth of the size, ~5 ms per MB in the
fetching thread, which zlib runs without the GIL).
"""

from __future__ import annotations

import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from airflow_provider_convoso.responses import body_text


class BodySpool:
    """Bodies by key in a private temporary directory, removed on :meth:`close`.

    :meth:`add` may be called from several threads at once.
    """

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="convoso-spool-")
        self._paths: dict[str, Path] = {}
        self._lock = threading.Lock()
        self.size = 0

    def add(self, key: str, content: bytes) -> None:
        """Keep ``content`` under ``key`` (on disk, compressed, not in memory)."""
        with self._lock:
            path = Path(self._directory.name) / f"{len(self._paths)}.json.z"
            self._paths[key] = path
            self.size += len(content)
        path.write_bytes(zlib.compress(content, 1))

    def __len__(self) -> int:
        return len(self._paths)

    def items(self) -> Iterator[tuple[str, str | bytes]]:
        """Each key in sorted order with its body as :func:`responses.body_text` gives it,
        read back one at a time; every call starts again from the first."""
        for key in sorted(self._paths):
            yield key, body_text(zlib.decompress(self._paths[key].read_bytes()))

    def close(self) -> None:
        self._directory.cleanup()

    def __enter__(self) -> BodySpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
