"""AgentScorecardOperator: the page from the API and from records already written, and what it shows."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from support import CONTRACT_AGENT

from airflow_provider_convoso.endpoints.agent_performance.scorecard import render
from airflow_provider_convoso.endpoints.agent_performance.scoring import Thresholds, score_agents
from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
from airflow_provider_convoso.operators.agent_scorecard import AgentScorecardOperator
from airflow_provider_convoso.testing import ConvosoEmulator

DAY = "2026-03-02"
RANGES = {"talk_pct": (50.0, 70.0), "human_answered_rate": (60.0, 80.0), "calls_per_hour": (6.0, 12.0),
          "avg_talk_minutes": (3.0, 8.0), "wrap_pct": (5.0, 15.0)}  # fmt: skip


class _Page(HTMLParser):
    """The tags, attributes and text of a page, to check what it loads and shows."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def test_the_page_is_self_contained_and_shows_each_verdict_in_words(
    convoso_conn: ConvosoEmulator, tmp_path: Path
) -> None:
    result = AgentScorecardOperator(task_id="s", date_start=DAY, output_path=str(tmp_path / "card.html")).execute({})
    page = (tmp_path / "card.html").read_text()
    parsed = _parsed(page)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert not any(value and re.search(r"(https?:)?//", value) for _, value in parsed.attributes)
    assert "@import" not in page and "url(" not in page
    assert parsed.tags.count("svg") == 5 and parsed.tags.count("tr") == 1 + result["agents"]
    text = " ".join(parsed.text)
    assert result["agents"] == 12 and result["path"] == f"file://{tmp_path}/card.html"
    assert result["below"] + result["within"] + result["above"] + result["unknown"] == 12 * 5
    assert text.count("▼ below") == result["below"] and text.count("▲ above") == result["above"]
    assert text.count("● within") == result["within"]
    assert f"Agent scorecard, {DAY}" in text and "reference" in text


def test_agents_outside_a_range_come_first() -> None:
    inside = {**CONTRACT_AGENT, "user_id": "1", "name": "Alma Inside", "talk_sec_pt": 60.0, "wrap_sec_pt": 10.0,
              "calls": 40, "human_answered": 28, "total_time": "05:00:00", "talk_sec": "02:40:00"}  # fmt: skip
    outside = {**inside, "user_id": "2", "name": "Zed Outside", "talk_sec_pt": 20.0}
    page = render(score_agents([inside, outside], Thresholds()), RANGES, title_range=DAY)
    assert page.index("Zed Outside") < page.index("Alma Inside")
    assert "1 outside at least one range" in page


def test_hostile_agent_names_render_as_text() -> None:
    hostile = {**CONTRACT_AGENT, "name": '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & co',
               "user_id": "<b>7</b>"}  # fmt: skip
    page = render(score_agents([hostile]), RANGES, title_range='2026-03-02"><script>')
    parsed = _parsed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
    assert '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & co' in "".join(parsed.text)
    assert "&lt;script&gt;" in page


def test_an_empty_range_says_there_is_no_data(convoso_conn: ConvosoEmulator, tmp_path: Path) -> None:
    records = tmp_path / "empty.jsonl"
    records.write_text("")
    result = AgentScorecardOperator(
        task_id="s", date_start="2026-01-05", records_path=str(records), output_path=str(tmp_path / "e.html")
    ).execute({})
    assert result["agents"] == 0 and not convoso_conn.requests
    assert "No data for 2026-01-05" in (tmp_path / "e.html").read_text()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_records_already_written_make_the_same_page_without_an_api_call(
    convoso_conn: ConvosoEmulator, tmp_path: Path, fmt: str
) -> None:
    AgentPerformanceOperator(task_id="a", date_start=DAY, date_end=DAY, output_path=str(tmp_path / f"a.{fmt}")).execute(
        {}
    )
    from_api = AgentScorecardOperator(task_id="s", date_start=DAY, output_path=str(tmp_path / "api.html")).execute({})
    convoso_conn.reset_log()
    from_file = AgentScorecardOperator(
        task_id="s", date_start=DAY, records_path=str(tmp_path / f"a.{fmt}"), output_path=str(tmp_path / "file.html")
    ).execute({})
    assert not convoso_conn.requests
    assert (tmp_path / "api.html").read_bytes() == (tmp_path / "file.html").read_bytes()
    assert {k: v for k, v in from_api.items() if k != "path"} == {k: v for k, v in from_file.items() if k != "path"}


def test_thresholds_override_the_reference_ranges_and_bad_ones_are_refused(
    convoso_conn: ConvosoEmulator, tmp_path: Path
) -> None:
    wide = {name: [0, 10_000] for name in RANGES}
    result = AgentScorecardOperator(
        task_id="s", date_start=DAY, thresholds=wide, output_path="memory://cards/wide.html"
    ).execute({})
    assert result["outside"] == 0 and result["below"] == result["above"] == 0
    for bad in ({"talk": [1, 2]}, {"talk_pct": [70, 50]}, {"talk_pct": "50-70"}, {"talk_pct": [1]}):
        with pytest.raises(ValueError):
            AgentScorecardOperator(task_id="s", date_start=DAY, thresholds=bad, output_path=str(tmp_path / "x.html"))


def test_the_page_is_written_atomically(convoso_conn: ConvosoEmulator, tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "card.html"
    target.write_text("the previous page")
    convoso_conn.configure(fault_rate=1.0, fault_kinds=["500"])
    with pytest.raises(Exception):
        AgentScorecardOperator(task_id="s", date_start=DAY, output_path=str(target)).execute({})
    assert target.read_text() == "the previous page"
