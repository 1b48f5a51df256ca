"""The scorecard plugin: what it adds on each Airflow line, and its route behind Airflow's authentication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support import RunDag

from airflow_provider_convoso.compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS, AIRFLOW_VERSION
from airflow_provider_convoso.endpoints.agent_performance.scorecard import scorecard_url
from airflow_provider_convoso.operators.agent_scorecard import ScorecardLink
from airflow_provider_convoso.plugins.scorecard import ConvosoScorecardPlugin
from airflow_provider_convoso.testing import ConvosoEmulator


def test_the_plugin_is_loaded_and_adds_what_each_line_can_show() -> None:
    from airflow import plugins_manager

    plugins_manager.ensure_plugins_loaded()
    # Loaded plugins: a module-level list up to 3.2, the loader's cached result from 3.3.
    loaded = getattr(plugins_manager, "plugins", None) or plugins_manager._get_plugins()[0]
    assert "convoso_scorecard" in {plugin.name for plugin in loaded}
    line = tuple(int(part) for part in AIRFLOW_VERSION.split(".")[:2])
    apps, views = ConvosoScorecardPlugin.fastapi_apps, ConvosoScorecardPlugin.external_views
    assert [app["url_prefix"] for app in apps] == ([] if line < (3, 0) else ["/convoso"])
    assert [view["destination"] for view in views] == ([] if line < (3, 1) else ["task_instance"])
    blueprints = ConvosoScorecardPlugin.flask_blueprints
    assert [blueprint.url_prefix for blueprint in blueprints] == (["/convoso"] if line < (3, 0) else [])
    assert scorecard_url("d a", "manual__2026-03-02T00:00:00+00:00", "t/x") == (
        "/convoso/scorecard/d%20a/manual__2026-03-02T00%3A00%3A00%2B00%3A00/t%2Fx?map_index=-1"
    )


@pytest.mark.airflow_dag
def test_the_route_serves_only_scorecards_and_only_to_an_authenticated_user(
    convoso_conn: ConvosoEmulator, run_dag: RunDag, tmp_path: Path
) -> None:
    dag_run, _ = run_dag("scorecard_page", conf={"out": str(tmp_path)})
    assert "success" in str(dag_run.state).lower()
    url = scorecard_url("scorecard_page", dag_run.run_id, "scorecard")
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "scorecard")
    assert ScorecardLink().get_link(ti.task, ti_key=ti.key) == url
    if AIRFLOW_V_3_0_PLUS:  # computed by the worker when the task ends, and kept for the UI
        assert ti.xcom_pull(task_ids="scorecard", key=ScorecardLink().xcom_key) == url
    others = [
        scorecard_url("scorecard_page", dag_run.run_id, "campaigns"),  # not a scorecard task
        scorecard_url("scorecard_page", "no-such-run", "scorecard"),
    ]
    page = (tmp_path / "card.html").read_bytes()
    if AIRFLOW_V_3_0_PLUS:
        _served_by_the_api_server(url, others, page)
    else:
        _served_by_the_webserver(url, others, page)


def _served_by_the_api_server(url: str, others: list[str], page: bytes) -> None:
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    client = TestClient(create_app("core"))
    assert client.get(url).status_code == 401
    browser = client.get(url, headers={"Accept": "text/html"})  # no credential: no data, a page that asks again
    assert browser.status_code == 401 and page not in browser.content
    assert "localStorage" in browser.text and "script-src 'sha256-" in browser.headers["content-security-policy"]
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
    headers = {"Authorization": f"Bearer {token}"}
    served = client.get(url, headers=headers)
    assert served.status_code == 200
    assert served.content == page
    assert served.headers["content-security-policy"].startswith("default-src 'none'")
    assert served.headers["x-content-type-options"] == "nosniff"
    # From 3.1 the UI keeps its token in a cookie, which the tab's frame sends; 3.0's UI keeps
    # it in local storage, which the answer without a credential (above) reads.
    cookie = TestClient(create_app("core"), cookies={"_token": token})
    assert cookie.get(url).status_code == (200 if AIRFLOW_V_3_1_PLUS else 401)
    # The UI leaves {MAP_INDEX} as written in a tab's address for an unmapped task instance.
    assert client.get(url.replace("=-1", "={MAP_INDEX}"), headers=headers).content == page
    assert client.get(url.replace("=-1", "=x"), headers=headers).status_code == 400
    for other in others:
        assert client.get(other, headers=headers).status_code == 404
    viewer = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="nobody", role=None))
    assert client.get(url, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403


def _served_by_the_webserver(url: str, others: list[str], page: bytes) -> None:
    from airflow.www.app import create_app

    app = create_app(testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    security = app.appbuilder.sm
    for user, role in (("scorecard-admin", "Admin"), ("scorecard-public", "Public")):
        if security.find_user(username=user) is None:
            security.add_user(user, user, "user", f"{user}@example.com", security.find_role(role), password="pw")

    def login(user: str) -> Any:
        client = app.test_client()
        assert client.post("/login/", data={"username": user, "password": "pw"}).status_code == 302
        return client

    refused = app.test_client().get(url)
    assert refused.status_code == 302 and "/login/" in refused.headers["Location"]
    admin = login("scorecard-admin")
    served = admin.get(url)
    assert served.status_code == 200
    assert served.data == page
    assert served.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    for other in others:
        assert admin.get(other).status_code == 404
    assert admin.get(url.replace("=-1", "=x")).status_code == 400
    public = login("scorecard-public").get(url)
    assert public.status_code != 200 and page not in public.data
