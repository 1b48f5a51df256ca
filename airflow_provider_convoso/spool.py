"""Answers kept on local disk between fetching and writing.

Pure: no Airflow. A ``split_by_day`` backfill fetches days concurrently and writes them in
day order; holding every answer in memory until then would grow with the range (a year of
a 20,000-agent account is about 2.4 GB of JSON). The spool keeps the answers in one file,
compressed (zlib level 1: about a fifth of the size, ~5 ms per MB in the fetching thread,
which zlib runs without the GIL), and hands them to the writer in day order as they
arrive, so the writer works while later days are still being fetched.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from airflow_provider_convoso._tempfiles import TEMP_PREFIX, remove_stale, temp_tag


class BodySpool:
    """Bodies by key in a private temporary directory, removed on :meth:`close`.

    ``on_disk=False`` keeps them in memory instead, for answers known to be small (an XCom
    result is capped by ``max_xcom_bytes``). :meth:`add` and :meth:`end` may be called from
    other threads than the one reading with :meth:`arriving`.
    """

    def __init__(self, *, on_disk: bool = True) -> None:
        self._directory = None
        self._file: io.FileIO | None = None
        if on_disk:
            base = Path(tempfile.gettempdir())
            remove_stale(base, f"{TEMP_PREFIX}*-spool")
            self._directory = tempfile.TemporaryDirectory(prefix=temp_tag() + "-", suffix="-spool")
            try:
                # One file for every body, each at its own offset: a file per body costs
                # the filesystem more than compressing the body does.
                self._file = io.FileIO(Path(self._directory.name) / "bodies.z", "x+")
            except BaseException:
                self._directory.cleanup()
                raise
        self._bodies: dict[str, tuple[int, int] | bytes] = {}
        self._end = 0
        self._changed = threading.Condition()
        self._ended = False
        self._error: BaseException | None = None
        self.size = 0

    def add(self, key: str, content: bytes) -> None:
        """Keep ``content`` under ``key`` (on disk and compressed, unless in memory).

        :param key: the body's name; :meth:`items` and :meth:`arriving` order by it.
        :param content: the body.
        """
        stored: tuple[int, int] | bytes = content
        if self._file is not None:
            packed = zlib.compress(content, 1)
            with self._changed:
                stored, self._end = (self._end, len(packed)), self._end + len(packed)
            _write_at(self._file.fileno(), packed, stored[0])  # outside the lock: other adds go on
        with self._changed:  # a reader sees the key only once its bytes are written
            self.size += len(content)
            self._bodies[key] = stored
            self._changed.notify_all()

    def end(self, error: BaseException | None = None) -> None:
        """Say that no more bodies will be added, and why when it is an error.

        :param error: what stopped the adding, raised to a reader still waiting for a body.
        """
        with self._changed:
            self._ended, self._error = True, error
            self._changed.notify_all()

    def __len__(self) -> int:
        return len(self._bodies)

    def items(self) -> Iterator[tuple[str, bytes]]:
        """Yield each key in sorted order with its body, read back one at a time.

        :return: an iterator that starts again from the first key on every call.
        """
        for key in sorted(self._bodies):
            yield key, self._read(key)

    def arriving(
        self, keys: Sequence[str], *, wait_s: float, waiting: Callable[[], None]
    ) -> Iterator[tuple[str, bytes]]:
        """Yield each of ``keys`` in that order with its body, waiting for the ones not added yet.

        :param keys: the keys, in the order wanted.
        :param wait_s: how often to call ``waiting`` while waiting.
        :param waiting: called every ``wait_s`` seconds spent waiting (a progress line).
        :return: an iterator that starts again from the first key on every call.
        :raises BaseException: the error given to :meth:`end`, or :class:`LookupError` if the
            adding ended without an error and without the key.
        """
        for key in keys:
            while not self._added(key, wait_s):
                waiting()
            yield key, self._read(key)

    def _added(self, key: str, wait_s: float) -> bool:
        """Whether ``key`` is here, after waiting up to ``wait_s`` for it."""
        with self._changed:  # other keys' adds wake it too: wait on, up to wait_s in all
            self._changed.wait_for(lambda: key in self._bodies or self._ended, wait_s)
            if key in self._bodies:
                return True
            if self._error is not None:
                raise self._error
            if self._ended:
                raise LookupError(f"no body was added under {key!r}")
            return False

    def _read(self, key: str) -> bytes:
        stored = self._bodies[key]
        if isinstance(stored, bytes):
            return stored
        assert self._file is not None
        offset, length = stored
        return zlib.decompress(os.pread(self._file.fileno(), length, offset))

    def close(self) -> None:
        """Close the spool's file and remove it from disk; no body can be read afterwards."""
        try:
            if self._file is not None:
                self._file.close()
        finally:
            if self._directory is not None:
                self._directory.cleanup()

    def __enter__(self) -> BodySpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _write_at(descriptor: int, data: bytes, offset: int) -> None:
    """Write all of ``data`` at ``offset``: ``pwrite`` may write less than it is given."""
    view = memoryview(data)
    while view:
        written = os.pwrite(descriptor, view, offset)
        if written == 0:  # a file that takes nothing would loop forever
            raise OSError(f"the spool's file took none of {len(view)} bytes")
        view, offset = view[written:], offset + written
