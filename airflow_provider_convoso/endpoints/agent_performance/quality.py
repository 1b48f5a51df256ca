"""Data-quality rules: how an agent-performance record's parts relate, per the contract.

Pure: no Airflow. Each :class:`Rule` has a name, a tolerance and a check over one typed
record (see :func:`records.normalize_record`); :func:`broken_rules` says which rules a
record breaks, and :class:`QualityReport` tallies them over a whole answer for the
operator's summary. A rule whose fields are missing or ``null`` does not apply.

The contract's relations:

- ``talk_sec + wait_sec + pause_sec + wrap_sec = total_time`` (its worked example: 10 + 2
  + 2 + 1 hours = 15 hours);
- each ``*_sec_pt`` is that duration over ``total_time``, in percent; ``am_pt`` and
  ``others_pt`` are ``am`` and ``others`` over ``calls`` (both of the contract's examples);
- ``calls = human_answered + am + others``.

``others`` is ambiguous in the wild (the one live example has ``others ==
human_answered``), so the two rules that read it are *advisory*: reported, never failing a
task. The contract's own figures are rounded (its first example's ``talk_sec_pt`` is 0.5
points off, its second example's parts are 20 s short of ``total_time``), hence the
default tolerances.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_Check = Callable[[Mapping[str, Any], float], "bool | None"]

#: ``quality_checks`` values: skip the checks, log what breaks, or fail the task on it.
MODES = ("off", "warn", "fail")
#: ``user_id`` examples kept per rule in a report.
EXAMPLES = 5


@dataclasses.dataclass(frozen=True)
class Rule:
    """One named relation between a record's fields.

    :param name: the rule's name, as reports and ``quality_tolerances`` spell it.
    :param description: what it states, for messages and docs.
    :param tolerance: the largest difference still accepted (seconds or percentage points).
    :param unit: ``"s"`` or ``"points"``.
    :param advisory: reported but never fails a task.
    """

    name: str
    description: str
    tolerance: float
    unit: str
    check: _Check = dataclasses.field(repr=False)
    advisory: bool = False

    def holds(self, record: Mapping[str, Any], tolerance: float | None = None) -> bool | None:
        """Tell whether ``record`` keeps this rule.

        :param record: a typed record.
        :param tolerance: overrides the rule's own.
        :return: ``True``/``False``, or ``None`` when a field the rule reads is missing or null.
        """
        return self.check(record, self.tolerance if tolerance is None else tolerance)


_PARTS = ("talk_seconds", "wait_seconds", "pause_seconds", "wrap_seconds")


def _numbers(record: Mapping[str, Any], fields: tuple[str, ...]) -> list[float] | None:
    """The fields' values when each is an int or a float (not a bool), else ``None``."""
    values: list[Any] = [record.get(name) for name in fields]
    if all(type(value) is int or type(value) is float for value in values):
        return values
    return None


def _parts_sum_to_total(record: Mapping[str, Any], tolerance: float) -> bool | None:
    values = _numbers(record, ("total_seconds", *_PARTS))
    if values is None:
        return None
    total, *parts = values
    return abs(sum(parts) - total) <= tolerance


def _share(part_field: str, whole_field: str, percent_field: str) -> _Check:
    """``percent_field`` is ``part_field`` over ``whole_field``, in percent (0 when the whole is 0)."""

    def check(record: Mapping[str, Any], tolerance: float) -> bool | None:
        values = _numbers(record, (part_field, whole_field, percent_field))
        if values is None:
            return None
        part, whole, percent = values
        expected = 100.0 * part / whole if whole else 0.0
        return abs(expected - percent) <= tolerance

    return check


def _calls_add_up(record: Mapping[str, Any], tolerance: float) -> bool | None:
    values = _numbers(record, ("calls", "human_answered", "am", "others"))
    if values is None:
        return None
    calls, human, am, others = values
    return abs(human + am + others - calls) <= tolerance


#: Every rule, in report order.
RULES: tuple[Rule, ...] = (
    Rule(
        "time_parts_sum_to_total",
        "talk_sec + wait_sec + pause_sec + wrap_sec = total_time",
        5.0,
        "s",
        _parts_sum_to_total,
    ),
    *(
        Rule(
            f"{name}_sec_pt_of_total",
            f"{name}_sec_pt = 100 * {name}_sec / total_time",
            1.0,
            "points",
            _share(f"{name}_seconds", "total_seconds", f"{name}_sec_pt"),
        )
        for name in ("talk", "wait", "pause", "wrap")
    ),
    Rule("am_pt_of_calls", "am_pt = 100 * am / calls", 1.0, "points", _share("am", "calls", "am_pt")),
    Rule(
        "others_pt_of_calls",
        "others_pt = 100 * others / calls",
        1.0,
        "points",
        _share("others", "calls", "others_pt"),
        True,
    ),
    Rule("calls_add_up", "calls = human_answered + am + others", 0.0, "calls", _calls_add_up, True),
)
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
_FIELDS = operator.itemgetter(
    "total_seconds",
    *_PARTS,
    "calls",
    "human_answered",
    "am",
    "others",
    "talk_sec_pt",
    "wait_sec_pt",
    "pause_sec_pt",
    "wrap_sec_pt",
    "am_pt",
    "others_pt",
)


def check_tolerances(tolerances: Mapping[str, float] | None) -> dict[str, float]:
    """Validate per-rule tolerance overrides.

    :param tolerances: rule name to tolerance (seconds or points, as the rule measures).
    :return: a plain dict of them.
    :raises ValueError: an unknown rule name or a negative or non-numeric tolerance.
    """
    checked: dict[str, float] = {}
    for name, value in (tolerances or {}).items():
        if name not in RULES_BY_NAME:
            raise ValueError(f"unknown quality rule {name!r}; the rules are {', '.join(RULES_BY_NAME)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ValueError(f"the tolerance of {name!r} must be a non-negative number, got {value!r}")
        checked[name] = float(value)
    return checked


def broken_rules(record: Mapping[str, Any], tolerances: Mapping[str, float] | None = None) -> list[str]:
    """Return the names of the rules ``record`` breaks, in :data:`RULES` order.

    :param record: a typed agent-performance record.
    :param tolerances: per-rule overrides of the rules' own tolerances.
    :return: the broken rules' names (empty when it keeps all that apply).
    """
    tolerances = tolerances or {}
    return [rule.name for rule in RULES if rule.holds(record, tolerances.get(rule.name)) is False]


@dataclasses.dataclass
class _Tally:
    applied: int = 0
    broken: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)


class QualityReport:
    """Tally of every rule over many records, for the operator's summary and log.

    :param tolerances: per-rule overrides (checked with :func:`check_tolerances`).
    """

    def __init__(self, tolerances: Mapping[str, float] | None = None) -> None:
        self._tolerances = check_tolerances(tolerances)
        self._rules = [(rule, self._tolerances.get(rule.name, rule.tolerance), _Tally()) for rule in RULES]
        self._tolerance_tuple = tuple(tolerance for _, tolerance, _ in self._rules)
        self.checked = 0

    def add_batch(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Check each record against every rule.

        :param records: typed records.
        """
        # Every rule of RULES inline, bit i for RULES[i]: a call and eight look-ups per rule
        # cost several times the arithmetic, and this runs once per record (the performance
        # page has the figures). A record with a missing, null or odd field (KeyError,
        # TypeError) goes to the rules one by one; tests check both ways agree.
        t_sum, t_talk, t_wait, t_pause, t_wrap, t_am, t_others, t_calls = self._tolerance_tuple
        fields = _FIELDS
        complete = 0
        for record in records:
            try:
                (
                    total,
                    talk,
                    wait,
                    pause,
                    wrap,
                    calls,
                    human,
                    am,
                    others,
                    p_talk,
                    p_wait,
                    p_pause,
                    p_wrap,
                    p_am,
                    p_others,
                ) = fields(record)
                broken = 1 if abs(talk + wait + pause + wrap - total) > t_sum else 0
                scale = 100.0 / total if total else 0.0
                if abs(talk * scale - p_talk) > t_talk:
                    broken |= 2
                if abs(wait * scale - p_wait) > t_wait:
                    broken |= 4
                if abs(pause * scale - p_pause) > t_pause:
                    broken |= 8
                if abs(wrap * scale - p_wrap) > t_wrap:
                    broken |= 16
                scale = 100.0 / calls if calls else 0.0
                if abs(am * scale - p_am) > t_am:
                    broken |= 32
                if abs(others * scale - p_others) > t_others:
                    broken |= 64
                if abs(human + am + others - calls) > t_calls:
                    broken |= 128
            except (KeyError, TypeError):
                self._one_by_one(record)
                continue
            complete += 1
            if broken:
                self._tally_bits(broken, record)
        self.checked += complete
        for _, _, tally in self._rules:
            tally.applied += complete

    def _tally_bits(self, broken: int, record: Mapping[str, Any]) -> None:
        for bit, (_, _, tally) in enumerate(self._rules):
            if broken >> bit & 1:
                tally.broken += 1
                if len(tally.examples) < EXAMPLES:
                    tally.examples.append(str(record.get("user_id")))

    def _one_by_one(self, record: Mapping[str, Any]) -> None:
        """A record with a missing, null or odd field: each rule that applies, on its own."""
        self.checked += 1
        for rule, tolerance, tally in self._rules:
            verdict = rule.check(record, tolerance)
            if verdict is None:
                continue
            tally.applied += 1
            if not verdict:
                tally.broken += 1
                if len(tally.examples) < EXAMPLES:
                    tally.examples.append(str(record.get("user_id")))

    def broken(self, *, failing_only: bool = False) -> list[str]:
        """Return the names of the rules at least one record broke.

        :param failing_only: leave out advisory rules.
        :return: rule names, in :data:`RULES` order.
        """
        return [rule.name for rule, _, tally in self._rules if tally.broken and not (failing_only and rule.advisory)]

    def summary(self) -> dict[str, Any]:
        """Return the tally as plain JSON for XCom.

        :return: ``{"checked": N, "rules": {name: {"broken": n, "applied": n, "tolerance": t,
            "unit": u, "advisory": bool, "examples": [user_id, ...]}}}``.
        """
        return {
            "checked": self.checked,
            "rules": {
                rule.name: {
                    "broken": tally.broken,
                    "applied": tally.applied,
                    "tolerance": tolerance,
                    "unit": rule.unit,
                    "advisory": rule.advisory,
                    "examples": list(tally.examples),
                }
                for rule, tolerance, tally in self._rules
            },
        }

    def lines(self) -> list[str]:
        """Return one human-readable line per broken rule.

        :return: the lines, for a WARNING each.
        """
        out = []
        for rule, tolerance, tally in self._rules:
            if tally.broken:
                note = " (advisory: never fails the task)" if rule.advisory else ""
                out.append(
                    f"quality rule {rule.name} ({rule.description}, within {tolerance:g} {rule.unit}) broken by "
                    f"{tally.broken} of {tally.applied} records, e.g. user_id {', '.join(tally.examples)}{note}"
                )
        return out
