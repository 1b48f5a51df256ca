"""Offset paging and dedupe, as every paged endpoint reads.

Pages step by the rows received, not by the ``limit`` asked for, so a server that clamps
``limit`` is followed rather than trusted to echo it. Every loop is bounded.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from airflow_provider_convoso.exceptions import ConvosoResponseError

T = TypeVar("T")


def offset_pages(
    read: Callable[[int], tuple[list[T], int]], *, max_pages: int, what: str
) -> Iterator[tuple[list[T], int]]:
    """Yield each page's rows and the total it reports, read as they are consumed.

    The next page is asked for at the offset stepped by the rows received; paging stops
    once that offset reaches the total the last page reported, or on an empty page.

    :param read: returns ``(rows, total)`` of the page at an offset.
    :param max_pages: pages read at most.
    :param what: the endpoint, for the error.
    :return: ``(rows, total)`` for each page, the first included.
    :raises ConvosoResponseError: rows still coming after ``max_pages`` pages.
    """
    offset = 0
    for _ in range(max_pages):
        rows, total = read(offset)
        yield rows, total
        offset += len(rows)
        if not rows or offset >= total:
            return
    raise ConvosoResponseError(f"{what} still had rows after {max_pages} pages")


def unique_by_id(records: Iterable[dict[str, Any]], dropped: list[int]) -> Iterator[dict[str, Any]]:
    """Yield each record whose ``id`` was not seen before (compared as text), in order.

    :param records: the records, each with an ``id``.
    :param dropped: ``dropped[0]`` counts the repeated records left out.
    :return: the records, each ``id`` once.
    """
    seen = IdMap(numbers=False)
    for record in records:
        if not seen.add(str(record.get("id"))):
            dropped[0] += 1
            continue
        yield record


#: Integer ids kept in the recent dict before they are merged into the arrays.
_MIN_RECENT = 1 << 15


def _number(key: str) -> int | None:
    """The id as a 64-bit integer when its text is a plain decimal one, else ``None``."""
    if key.isascii() and key.isdigit() and len(key) < 19 and (key[0] != "0" or key == "0"):
        return int(key)
    return None


class IdMap:
    """Ids seen so far, each with a small number, in 8 bytes an id (16 with numbers): an
    export of a million calls or leads dedupes in a few MiB rather than the 100 MiB a dict
    of strings takes.

    Decimal ids without a leading zero (every id Convoso sends) are kept as 64-bit integers:
    recent ones in a small dict, the rest in a sorted array searched by bisection (with the
    numbers in a parallel array). A full dict is merged into the arrays in place, from the
    back, moving the runs between its ids' places: one Python step per id, the moves in C,
    and no second copy of the arrays. Any other id is kept as text. Ids compare as text:
    ``"7"`` and ``"07"`` differ.

    :param numbers: keep a number per id; without, it is a set (:meth:`add`, ``in``) and
        every id's number is 0.
    """

    __slots__ = ("_keys", "_other", "_recent", "_values")

    def __init__(self, *, numbers: bool = True) -> None:
        self._keys = array("q")
        self._values = array("q") if numbers else None
        self._recent: dict[int, int] = {}
        self._other: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._keys) + len(self._recent) + len(self._other)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def get(self, key: str) -> int | None:
        """Return the number kept for an id.

        :param key: the id as text.
        :return: its number, or ``None`` when it was not seen.
        """
        number = _number(key)
        if number is None:
            return self._other.get(key)
        value = self._recent.get(number)
        if value is not None:
            return value
        keys = self._keys
        at = bisect_left(keys, number)
        if at < len(keys) and keys[at] == number:
            return 0 if self._values is None else self._values[at]
        return None

    def __setitem__(self, key: str, value: int) -> None:
        if self._values is None and value != 0:
            raise ValueError("this IdMap keeps no numbers: every id's number is 0")
        number = _number(key)
        if number is None:
            self._other[key] = value
            return
        keys = self._keys
        at = bisect_left(keys, number)
        if at < len(keys) and keys[at] == number:
            if self._values is not None:
                self._values[at] = value
            return
        self._recent[number] = value
        if len(self._recent) >= _MIN_RECENT:
            self._merge()

    def add(self, key: str) -> bool:
        """Add an id (as a set would).

        :param key: the id as text.
        :return: whether it was new.
        """
        if key in self:
            return False
        self[key] = 0
        return True

    def _merge(self) -> None:
        recent = sorted(self._recent.items())
        self._recent = {}
        columns = [self._keys] if self._values is None else [self._keys, self._values]
        end = len(self._keys)  # the old ids not moved yet are [0, end)
        for column in columns:
            column.frombytes(bytes(column.itemsize * len(recent)))  # room at the back
        write = len(self._keys)  # [write, len) is merged already
        for number, value in reversed(recent):
            at = bisect_left(self._keys, number, 0, end)
            run = end - at
            for column, new in zip(columns, (number, value), strict=False):
                if run:
                    column[write - run : write] = column[at:end]
                column[write - run - 1] = new
            write -= run + 1
            end = at
