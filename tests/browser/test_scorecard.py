"""The agent scorecard page in Debian's Chromium: it renders offline, fits 1280 px, and logs no error.

Run by ``scripts/browser_check.sh``; the screenshot is kept in ``BROWSER_TEST_OUTPUT``
(``.browser-test-output/`` in CI) whether the test passes or not.
"""

from __future__ import annotations

import os
from pathlib import Path

from support import CHROMIUM, FLAGS

from airflow_provider_convoso.endpoints.agent_performance.scorecard import render
from airflow_provider_convoso.endpoints.agent_performance.scoring import Thresholds, score_agents


def test_the_scorecard_renders_offline_within_1280_px(tmp_path: Path) -> None:
    import dataclasses
    import datetime as dt

    from playwright.sync_api import sync_playwright

    day = dt.date(2026, 3, 2)
    records = [
        {"user_id": str(10001 + i), "name": f"Agent {i}", "calls": 20 + i * 3, "human_answered": 10 + i * 2,
         "talk_sec_pt": 35.0 + i * 1.2, "wrap_sec_pt": 2.0 + i * 0.5, "total_time": f"0{4 + i % 5}:00:00",
         "talk_sec": f"0{2 + i % 4}:10:00"}
        for i in range(40)
    ]  # fmt: skip
    scores = score_agents(records, Thresholds())
    records[0]["name"] = '<img src=x onerror="console.error(1)"> Long-Named Agent With A Very Long Surname-Hyphenated'
    page_file = tmp_path / "scorecard.html"
    page_file.write_text(render(score_agents(records), dataclasses.asdict(Thresholds()), title_range=str(day)))
    shots = Path(os.environ.get("BROWSER_TEST_OUTPUT", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
            page = context.new_page()
            problems: list[str] = []
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on(
                "request", lambda request: None if request.url.startswith("file:") else problems.append(request.url)
            )
            page.goto(page_file.as_uri())
            page.screenshot(path=str(shots / "scorecard.png"), full_page=True)
            assert problems == []
            scroll, width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll <= width == 1280
            assert page.locator("svg").count() == 5
            assert page.locator("tbody tr").count() == len(scores)
            assert page.get_by_text("Long-Named Agent", exact=False).count() == 1
        finally:
            browser.close()
