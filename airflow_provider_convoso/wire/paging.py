"""Offset paging and dedupe, as every paged endpoint reads.

Pages step by the rows received, not by the ``limit`` asked for, so a server that clamps
``limit`` is followed rather than trusted to echo it. Every loop is bounded.
"""

from __future__ import annotations

import heapq
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
    seen = IdSet()
    for record in records:
        if not seen.add(str(record.get("id"))):
            dropped[0] += 1
            continue
        yield record


#: Fewest integer ids kept in the set of recent ones before they are merged into the array.
_MIN_RECENT = 1 << 16


class IdSet:
    """The ids seen so far, in about 8 bytes each: an export of a million calls dedupes in a
    few MiB rather than the 100 MiB a set of strings takes.

    Decimal ids without a leading zero (every id Convoso sends) are kept as 64-bit integers:
    recent ones in a set, the rest in a sorted array searched by bisection, the two merged
    when the set reaches half the array's size (so each id is merged a few times at most).
    Any other id is kept as text. Ids compare as text: ``"7"`` and ``"07"`` differ.
    """

    __slots__ = ("_other", "_recent", "_sorted")

    def __init__(self) -> None:
        self._sorted = array("q")
        self._recent: set[int] = set()
        self._other: set[str] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent) + len(self._other)

    def add(self, key: str) -> bool:
        """Add an id.

        :param key: the id as text.
        :return: whether it was new.
        """
        if not (key.isascii() and key.isdigit() and len(key) < 19 and (key[0] != "0" or key == "0")):
            if key in self._other:
                return False
            self._other.add(key)
            return True
        number = int(key)
        if number in self._recent:
            return False
        ordered = self._sorted
        at = bisect_left(ordered, number)
        if at < len(ordered) and ordered[at] == number:
            return False
        self._recent.add(number)
        if len(self._recent) >= max(_MIN_RECENT, len(ordered) // 4):
            self._sorted = array("q", heapq.merge(ordered, sorted(self._recent)))
            self._recent = set()
        return True
