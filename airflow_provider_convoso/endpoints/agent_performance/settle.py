"""When is a day's data settled? The same answer on N polls in a row, for at least T seconds.

Pure: no Airflow. The sensor keeps a :class:`Settling` across pokes (in memory in poke
mode, in an Airflow Variable between reschedules) and the trigger keeps one across polls;
both feed it each poll's row count and digest (:mod:`airflow_provider_convoso.digest`).
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class Settling:
    """The wait for an answer that stops changing.

    :param polls: polls in a row that must return the same digest (1: the first is enough).
    :param seconds: how long the digest must have been unchanged.
    """

    polls: int = 1
    seconds: float = 0.0
    digest: str | None = None
    since: float | None = None
    seen: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.polls, bool) or not isinstance(self.polls, int) or self.polls < 1:
            raise ValueError(f"settle_polls must be a positive integer, got {self.polls!r}")
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int | float) or not self.seconds >= 0:
            raise ValueError(f"settle_for must be zero or more seconds, got {self.seconds!r}")

    @property
    def active(self) -> bool:
        """Tell whether one poll is not enough (``polls`` over 1 or ``seconds`` over 0)."""
        return self.polls > 1 or self.seconds > 0

    def observe(self, *, enough_rows: bool, digest: str, now: float) -> bool:
        """Record one poll; tell whether the data is settled now.

        :param enough_rows: the poll met ``min_rows`` (if not, the wait starts over).
        :param digest: the poll's digest.
        :param now: the poll's time, in seconds (UNIX time, so it holds across processes).
        :return: ``True`` once ``polls`` polls in a row had this digest, the first of them
            at least ``seconds`` ago.
        """
        if not enough_rows:
            self.digest, self.since, self.seen = None, None, 0
            return False
        if digest != self.digest or self.since is None:
            self.digest, self.since, self.seen = digest, now, 1
        else:
            self.seen += 1
        return self.seen >= self.polls and now - self.since >= self.seconds

    def progress(self, now: float) -> str:
        """Describe where the wait stands, for the log.

        :param now: the current time.
        :return: e.g. ``"same data on 2 of 3 polls, for 40s of 300s"``.
        """
        steady = 0.0 if self.since is None else now - self.since
        return f"same data on {self.seen} of {self.polls} polls, for {steady:.0f}s of {self.seconds:g}s"

    def state(self) -> dict[str, Any]:
        """Return what a later process needs to go on (no rows, no token).

        :return: JSON-ready state.
        """
        return {"digest": self.digest, "since": self.since, "seen": self.seen}

    def resume(self, state: dict[str, Any] | None) -> Settling:
        """Go on from :meth:`state` output; anything unreadable starts the wait over.

        :param state: a saved state, or ``None``.
        :return: this object.
        """
        if isinstance(state, dict):
            digest, since, seen = state.get("digest"), state.get("since"), state.get("seen")
            if isinstance(digest, str) and isinstance(since, int | float) and isinstance(seen, int) and seen > 0:
                self.digest, self.since, self.seen = digest, float(since), seen
        return self
