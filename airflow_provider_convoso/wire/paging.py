"""Offset paging and dedupe, as every paged endpoint reads.

Pages step by the rows received, not by the ``limit`` asked for, so a server that clamps
``limit`` is followed rather than trusted to echo it. Every loop is bounded.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
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
        self._put(key, value, replace=True)

    def add(self, key: str) -> bool:
        """Add an id (as a set would).

        :param key: the id as text.
        :return: whether it was new.
        """
        return self._put(key, 0, replace=False)

    def _put(self, key: str, value: int, *, replace: bool) -> bool:
        """Keep ``value`` for ``key`` (a known id keeps its number unless ``replace``); say if it was new."""
        if self._values is None and value != 0:
            raise ValueError("this IdMap keeps no numbers: every id's number is 0")
        number = _number(key)
        if number is None:
            new = key not in self._other
            if new or replace:
                self._other[key] = value
            return new
        keys = self._keys
        at = bisect_left(keys, number)
        if at < len(keys) and keys[at] == number:
            if replace and self._values is not None:
                self._values[at] = value
            return False
        new = number not in self._recent
        if new or replace:
            self._recent[number] = value
            if len(self._recent) >= _MIN_RECENT:
                self._merge()
        return new

    def _merge(self) -> None:
        recent = sorted(self._recent)
        numbers = [self._recent[number] for number in recent]
        self._recent = {}
        keys, values = self._keys, self._values
        end = len(keys)  # the old ids not moved yet are [0, end)
        keys.frombytes(bytes(8 * len(recent)))  # room at the back
        if values is not None:
            values.frombytes(bytes(8 * len(recent)))
        write, high = len(keys), len(recent)  # [write, len) is merged; recent[:high] is not
        while high:
            # The old ids above the greatest recent one left move up, in one slice...
            at = bisect_left(keys, recent[high - 1], 0, end)
            run = end - at
            if run:
                keys[write - run : write] = keys[at:end]
                if values is not None:
                    values[write - run : write] = values[at:end]
            write, end = write - run, at
            # ...and every recent id above the next old one goes below them, in one slice
            # (ids that arrive in order merge in a single step).
            low = bisect_right(recent, keys[end - 1], 0, high) if end else 0
            keys[write - (high - low) : write] = array("q", recent[low:high])
            if values is not None:
                values[write - (high - low) : write] = array("q", numbers[low:high])
            write, high = write - (high - low), low
