"""Account-local time: the ``YYYY-MM-DD HH:MM:SS`` text the service reads and sends, and its
windows.

Convoso's times are the account's wall-clock strings, with no offset: a day's window is
``00:00:00``-``23:59:59`` of the local date whatever its length (23 or 25 hours on a DST
change). Aware datetimes (a data interval) are converted into the account's zone here, and
local text is given its aware instant here, so every endpoint handles time one way.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from airflow_provider_convoso.exceptions import ConvosoInputError

#: The one format of account-local time on the wire.
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"

_LOCAL_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def local_time_text(name: str, value: Any) -> str:
    """Return account-local ``YYYY-MM-DD HH:MM:SS`` from such a string or a naive datetime.

    An aware datetime is refused here: the caller converts it to the account's zone first.

    :param name: the argument's name, for the error.
    :param value: the value given.
    :return: the local text.
    :raises ConvosoInputError: anything else.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ConvosoInputError(f"{name} is time-zone aware; convert it to the account's time zone first")
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, str) and _LOCAL_TIME_RE.fullmatch(value.strip()):
        try:
            dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return value.strip()
    raise ConvosoInputError(f"{name} must be a local time in YYYY-MM-DD HH:MM:SS format, got {value!r}")


def day_window(day: dt.date) -> tuple[str, str]:
    """Return the local window of a whole day: ``00:00:00`` to ``23:59:59``.

    :param day: the account-local date.
    :return: ``(start_time, end_time)``.
    """
    return f"{day.isoformat()} 00:00:00", f"{day.isoformat()} 23:59:59"


def local_window(start: Any, end: Any, timezone: str) -> tuple[str, str]:
    """Turn the bounds a task has into account-local text.

    Aware datetimes (a data interval) are converted into ``timezone``; naive datetimes and
    ``YYYY-MM-DD HH:MM:SS`` strings are taken as account-local already.

    :param start: the first instant.
    :param end: the last instant (inclusive: second precision).
    :param timezone: the account's IANA zone.
    :return: ``(start_time, end_time)``.
    """
    import zoneinfo

    zone = zoneinfo.ZoneInfo(timezone)

    def local(name: str, value: Any) -> str:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        if isinstance(value, dt.datetime):
            return value.replace(microsecond=0).strftime(LOCAL_FORMAT)
        if isinstance(value, str):
            return value.strip()
        raise ConvosoInputError(f"{name} must be a datetime or a YYYY-MM-DD HH:MM:SS string, got {value!r}")

    return local("start_time", start), local("end_time", end)


def task_window(date: Any, start: Any, end: Any, timezone: str) -> tuple[str, str] | None:
    """Return the account-local window a task's arguments name: a ``date``'s whole day, or
    ``start``/``end`` (aware ones converted into ``timezone``); ``None`` when they name none.

    :param date: an account-local day (``YYYY-MM-DD``, a date), or ``None``.
    :param start: the window's start, with ``end``.
    :param end: the window's end (included).
    :param timezone: the account's IANA zone.
    :return: ``(start, end)`` as local text, or ``None``.
    :raises ConvosoInputError: a bad or empty value.
    """
    from airflow_provider_convoso.wire.query import parse_date

    if date is not None:
        day = parse_date("date", date)
        if day is None:
            raise ConvosoInputError("date is empty")
        return day_window(day)
    if start is not None and end is not None:
        return local_window(start, end, timezone)
    return None


def local_day(instant: dt.datetime, timezone: str) -> dt.date:
    """Return the account-local date of an aware instant (a run's logical date).

    :param instant: an aware datetime.
    :param timezone: the account's IANA zone.
    :return: the date there.
    """
    import zoneinfo

    if instant.tzinfo is None:
        raise ConvosoInputError("the instant must be time-zone aware")
    return instant.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def shifted(text: str, seconds: float) -> str:
    """Return local ``text`` moved by ``seconds`` (negative: earlier), to the second.

    :param text: local ``YYYY-MM-DD HH:MM:SS``.
    :param seconds: how far to move it.
    :return: the local text.
    """
    moved = dt.datetime.strptime(text, LOCAL_FORMAT) + dt.timedelta(seconds=seconds)
    return moved.replace(microsecond=0).strftime(LOCAL_FORMAT)


def aware(text: Any, zone: dt.tzinfo) -> dt.datetime | None:
    """Return the aware UTC instant of a local time the service sent, or ``None``.

    ``None``, ``""`` and MySQL's zero date (``0000-00-00 00:00:00``, "never") have no
    instant; a wall-clock time repeated by a DST change is taken at its first occurrence.

    :param text: local ``YYYY-MM-DD HH:MM:SS`` (or ``YYYY-MM-DD``: midnight).
    :param zone: the account's zone.
    :return: the instant in UTC.
    :raises ValueError: text that is not such a time.
    """
    if text is None or text == "" or (isinstance(text, str) and text.startswith("0000-00-00")):
        return None
    local = dt.datetime.fromisoformat(str(text).strip())
    return local.replace(tzinfo=zone).astimezone(dt.timezone.utc)
