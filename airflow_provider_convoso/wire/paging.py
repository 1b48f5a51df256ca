"""Offset paging and dedupe, as every paged endpoint reads.

Pages step by the rows received, not by the ``limit`` asked for, so a server that clamps
``limit`` is followed rather than trusted to echo it. Every loop is bounded.
"""

from __future__ import annotations

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
    seen: set[str] = set()
    for record in records:
        key = str(record.get("id"))
        if key in seen:
            dropped[0] += 1
            continue
        seen.add(key)
        yield record
