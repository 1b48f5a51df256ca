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

from airflow_provider_convoso.output import TEMP_PREFIX, remove_stale, temp_tag


class BodySpool:
    """Bodies by key in a private temporary directory, removed on :meth:`close`.

    ``on_disk=False`` keeps them in memory instead, for answers known to be small (an XCom
    result is capped by ``max_xcom_bytes``). :meth:`add` may be called from several threads.
    """

    def __init__(self, *, on_disk: bool = True) -> None:
        self._directory = None
        if on_disk:
            base = Path(tempfile.gettempdir())
            remove_stale(base, f"{TEMP_PREFIX}*-spool")
            self._directory = tempfile.TemporaryDirectory(prefix=temp_tag() + "-", suffix="-spool")
        self._bodies: dict[str, Path | bytes] = {}
        self._lock = threading.Lock()
        self.size = 0

    def add(self, key: str, content: bytes) -> None:
        """Keep ``content`` under ``key`` (on disk and compressed, unless in memory)."""
        with self._lock:
            self.size += len(content)
            if self._directory is None:
                self._bodies[key] = content
                return
            path = Path(self._directory.name) / f"{len(self._bodies)}.json.z"
            self._bodies[key] = path
        path.write_bytes(zlib.compress(content, 1))

    def __len__(self) -> int:
        return len(self._bodies)

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Yield each key in sorted order with its body, read back one at a time.

        :return: an iterator that starts again from the first key on every call.
        """
        for key in sorted(self._bodies):
            stored = self._bodies[key]
            yield key, stored if isinstance(stored, bytes) else zlib.decompress(stored.read_bytes())

    def close(self) -> None:
        if self._directory is not None:
            self._directory.cleanup()

    def __enter__(self) -> BodySpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
