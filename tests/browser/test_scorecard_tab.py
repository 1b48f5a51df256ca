"""The scorecard tab of a task instance in Airflow 3.3.2's real UI, in Debian's Chromium.

A scorecard task runs (``airflow dags test``, from records on disk) in an Airflow home whose
API server has the simple auth manager with one user and a password: logged in, the task
instance's "Scorecard" tab shows the page the task wrote; logged out, the route refuses it
and the tab sends the browser to the login page.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import CHROMIUM, FLAGS, airflow_env, running_api_server

from airflow_provider_convoso.endpoints.agent_performance.scorecard import scorecard_url

USER, PASSWORD = "manager", "pw-Tab-9d2c"
DAG_ID, TASK_ID = "scorecard_tab", "scorecard"
HOSTILE = '<b id="injected">Hostile</b> Agent'

_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_convoso.operators.agent_scorecard import AgentScorecardOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
    AgentScorecardOperator(task_id="{task_id}", date_start="2026-03-02", records_path={records!r},
                           output_path={output!r})
"""


@pytest.fixture(scope="module")
def airflow_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The API server's URL and the run id of a finished scorecard task."""
    home = tmp_path_factory.mktemp("airflow-home")
    (home / "dags").mkdir()
    records = home / "records.jsonl"
    agents = [{"user_id": str(20001 + i), "name": f"Agent {i}", "calls": 30 + i, "human_answered": 12 + i,
               "talk_sec_pt": 40.0 + i, "wrap_sec_pt": 3.0, "total_time": "06:00:00", "talk_sec": "02:30:00"}
              for i in range(8)]  # fmt: skip
    agents[0]["name"] = HOSTILE
    records.write_text("".join(json.dumps(agent) + "\n" for agent in agents))
    output = home / "out" / "scorecard.html"
    (home / "dags" / f"{DAG_ID}.py").write_text(
        _DAG.format(dag_id=DAG_ID, task_id=TASK_ID, records=str(records), output=str(output))
    )
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    settings = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }
    with running_api_server(home, settings) as url:
        env = airflow_env(home, settings)
        airflow = [sys.executable, "-m", "airflow"]
        subprocess.run([*airflow, "dags", "reserialize"], env=env, check=True, capture_output=True, timeout=300)
        subprocess.run([*airflow, "dags", "test", DAG_ID, "2026-03-03"], env=env, check=True, capture_output=True,
                       timeout=300)  # fmt: skip
        runs = subprocess.run([*airflow, "dags", "list-runs", DAG_ID, "-o", "json"], env=env, check=True,
                              capture_output=True, timeout=300, text=True)  # fmt: skip
        [run] = json.loads(runs.stdout.splitlines()[-1])  # Airflow logs a warning line first
        assert run["state"] == "success", run
        assert output.exists()
        yield url, run["run_id"]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def _tab(url: str, run_id: str) -> str:
    return f"{url}/dags/{DAG_ID}/runs/{run_id}/tasks/{TASK_ID}/plugin/convoso_scorecard"


def test_logged_in_the_tab_shows_the_page_the_task_wrote(airflow_ui: tuple[str, str], browser: Any) -> None:
    url, run_id = airflow_ui
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(_tab(url, run_id))
        page.get_by_label("Username").fill(USER)  # the simple auth manager's login page
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{url}/dags/**")
        page.goto(_tab(url, run_id))
        page.get_by_role("link", name="Scorecard", exact=True).wait_for()  # the tab
        frame = page.frame_locator("iframe")
        frame.get_by_text("Agent 7").wait_for()
        assert frame.locator("tbody tr").count() == 8
        assert frame.get_by_text(HOSTILE).count() == 1  # the name as text, not markup
        assert frame.locator("#injected").count() == 0
        shots = Path(os.environ.get("BROWSER_TEST_OUTPUT", "."))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "scorecard-tab.png"), full_page=True)
    finally:
        context.close()


def test_logged_out_the_page_is_refused(airflow_ui: tuple[str, str], browser: Any) -> None:
    url, run_id = airflow_ui
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        direct = page.goto(url + scorecard_url(DAG_ID, run_id, TASK_ID))
        assert direct is not None and direct.status == 401
        page.get_by_text("Log in to Airflow, then open this scorecard again.").wait_for()
        assert "Agent 7" not in page.content()
        page.goto(_tab(url, run_id))
        page.get_by_label("Password").wait_for()  # sent to the login page instead
        assert "Agent 7" not in page.content()
        assert all("Agent 7" not in frame.content() for frame in page.frames)
    finally:
        context.close()


def test_a_link_opened_from_airflow_3_0s_ui_shows_the_page(airflow_ui: tuple[str, str], browser: Any) -> None:
    """Airflow 3.0's UI keeps its token in local storage, not a cookie: the route's answer to a
    request without one asks again with that token, and shows the page only if Airflow accepts it."""
    url, run_id = airflow_ui
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        answer = page.request.post(f"{url}/auth/token", data={"username": USER, "password": PASSWORD})
        assert answer.status == 201, answer.text()
        token = answer.json()["access_token"]
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        for stored, shown in ((token, "Agent 7"), ("not-a-token", "Airflow refused this scorecard")):
            page.goto(url + "/api/v2/monitor/health")  # a page of the origin whose storage the UI uses
            page.evaluate("token => localStorage.setItem('token', token)", stored)
            first = page.goto(url + scorecard_url(DAG_ID, run_id, TASK_ID))
            assert first is not None and first.status == 401  # nothing without the header
            page.get_by_text(shown).first.wait_for()
        assert page.get_by_text("Agent 7").count() == 0
        assert [problem for problem in problems if "401" not in problem and "403" not in problem] == []
    finally:
        context.close()
