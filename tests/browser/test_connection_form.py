"""The Convoso connection form and its test, in Airflow 3.3.2's web UI, in Debian's Chromium.

Run by ``scripts/browser_check.sh`` (part of ``make test``), which installs ``chromium`` from
Debian's packages when it is missing; Playwright drives it through ``executable_path``
and never downloads a browser. The API server runs on SQLite with the simple auth manager
(every user an admin) on a free loopback port, and is stopped at the end.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import CHROMIUM, FLAGS, running_api_server

from airflow_provider_convoso.testing import ConvosoEmulator

TOKEN = "tok-BROWSER-SENTINEL-5e1f"
EXTRAS = ["Timeout (seconds)", "Max retries", "Retry backoff (seconds)", "Max wait between retries (seconds)",
          "Request format", "Verify TLS", "Max response size (bytes)", "Account time zone"]  # fmt: skip


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True", "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}
    with running_api_server(home, env) as url:
        yield url


@pytest.fixture
def page(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("BROWSER_TEST_OUTPUT", tmp_path)) / request.node.name
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1600},
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            if getattr(request.node, "failed", False):
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / "form.png"), full_page=True)
                print(f"screenshot: {shots / 'form.png'}")
            context.close()


def _open_convoso_form(page: Any, url: str) -> Any:
    page.goto(f"{url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox").first.fill("Convoso")
    page.keyboard.press("Enter")
    dialog.get_by_text("Extra Fields", exact=True).wait_for()
    return dialog


def test_the_form_shows_the_truth_and_saves_it(api_server: str, page: Any) -> None:
    responses: list[tuple[str, str]] = []
    page.on("response", lambda response: responses.append((response.url, _body(response))))
    with ConvosoEmulator(token=TOKEN) as emulator:
        dialog = _open_convoso_form(page, api_server)
        labels = [" ".join(text.replace("*", "").split()) for text in dialog.locator("label").all_inner_texts()]
        assert "API base URL" in labels and "Auth Token" in labels
        for hidden in ("Login", "Schema", "Port"):
            assert hidden not in labels
        assert dialog.locator("input[name=host]").get_attribute("placeholder") == "https://api.convoso.com"
        assert "API sections it can read" in (dialog.locator("input[name=password]").get_attribute("placeholder") or "")

        dialog.get_by_text("Extra Fields", exact=True).click()
        labels = [" ".join(text.replace("*", "").split()) for text in dialog.locator("label").all_inner_texts()]
        for label in EXTRAS:
            assert label in labels, labels
        assert dialog.locator("input[name=element_verify]").is_checked()  # Verify TLS shows ON
        assert dialog.locator("input[name=element_request_format]").input_value() == "form"
        dialog.get_by_role("combobox").nth(1).click()  # the choice opens a list of its two values
        options = [" ".join(o.split()) for o in page.get_by_role("option").all_inner_texts()]
        assert sorted(options) == ["form", "json"], options
        page.get_by_role("option", name="form").click()  # keep the default; closes the list
        for default in ("(default 30)", "(default 5)", "(default 1)", "(default 60)"):
            assert dialog.get_by_text(default, exact=False).count() == 1, default

        dialog.get_by_text("Standard Fields", exact=True).click()
        dialog.locator("input[name=connection_id]").fill("convoso_ui")
        dialog.locator("input[name=host]").fill(emulator.url)
        dialog.locator("input[name=password]").fill(TOKEN)
        dialog.get_by_role("button", name="Save").click()
        row = page.get_by_role("row", name="convoso_ui")
        row.wait_for()
        # The dialog (with the token the user typed in its input) leaves the page only once
        # its closing animation ends; what is checked below is the list it leaves behind.
        dialog.wait_for(state="detached")

        saved = page.request.get(f"{api_server}/api/v2/connections/convoso_ui").json()
        extra = json.loads(saved["extra"])
        assert extra["request_format"] == "form" and extra["verify"] is True
        assert saved["password"] != TOKEN
        assert TOKEN not in page.content()  # the list shows no token

        # The UI's Test button sends port 0 for a connection without a port; Airflow 3.3.x
        # answers 400 (apache/airflow#73298). Through the REST API, with the credentials:
        test = page.request.post(
            f"{api_server}/api/v2/connections/test",
            data=_test_body(emulator, TOKEN, saved["extra"]),
        ).json()
        assert test["status"] is True, test
        assert test["message"].startswith("Connected: the token can read agent performance")
        wrong = page.request.post(
            f"{api_server}/api/v2/connections/test",
            data=_test_body(emulator, "not-the-token", saved["extra"]),
        ).json()
        assert wrong["status"] is False
        assert wrong["message"].startswith("ConvosoAuthError: Convoso rejected the auth token")
        assert "not-the-token" not in wrong["message"]
        page.goto(f"{api_server}/connections")
        page.get_by_role("row", name="convoso_ui").wait_for()
        assert TOKEN not in page.content()
    leaks = [url for url, body in responses if TOKEN in body]
    assert leaks == [], leaks
    assert len(responses) > 10


def test_the_ui_test_button_answers_without_a_stack_trace(api_server: str, page: Any) -> None:
    """What a user sees from the Test button on Airflow 3.3.x: a 400 from Airflow, documented."""
    with ConvosoEmulator(token=TOKEN) as emulator:
        created = page.request.post(
            f"{api_server}/api/v2/connections",
            data={"connection_id": "convoso_button", "conn_type": "convoso", "host": emulator.url, "password": TOKEN},
        )
        assert created.status == 201, created.text()
        page.goto(f"{api_server}/connections")
        answers: list[Any] = []
        page.on("response", lambda response: answers.append(response) if "/connections/test" in response.url else None)
        page.get_by_role("row", name="convoso_button").get_by_label("Test Connection").click()
        deadline = time.monotonic() + 20
        while not answers and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        [answer] = answers
        sent = json.loads(answer.request.post_data or "{}")
        assert sent["port"] == 0 and sent["password"] == "***"
        assert answer.status == 400
        assert "differs from the stored connection" in answer.text()
        assert emulator.requests == []  # nothing reached the provider


def _test_body(emulator: ConvosoEmulator, password: str, extra: str) -> dict[str, Any]:
    return {
        "connection_id": "convoso_ui",
        "conn_type": "convoso",
        "host": emulator.url,
        "port": emulator.port,
        "password": password,
        "extra": extra,
    }


def _body(response: Any) -> str:
    try:
        return str(response.text())
    except Exception:  # redirects and aborted requests have no body
        return ""
