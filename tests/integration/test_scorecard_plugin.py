"""The scorecard plugin: what it adds on each Airflow line, and its route behind Airflow's authentication."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import RunDag

from airflow_provider_convoso.compat import AIRFLOW_VERSION
from airflow_provider_convoso.plugins.scorecard import ConvosoScorecardPlugin, scorecard_url
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
    assert scorecard_url("d a", "manual__2026-03-02T00:00:00+00:00", "t/x") == (
        "/convoso/scorecard/d%20a/manual__2026-03-02T00%3A00%3A00%2B00%3A00/t%2Fx?map_index=-1"
    )


@pytest.mark.primary
@pytest.mark.airflow_dag
def test_the_route_serves_only_scorecards_and_only_to_an_authenticated_user(
    convoso_conn: ConvosoEmulator, run_dag: RunDag, tmp_path: Path
) -> None:
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    dag_run, _ = run_dag("scorecard_page", conf={"out": str(tmp_path)})
    assert "success" in str(dag_run.state).lower()
    url = scorecard_url("scorecard_page", dag_run.run_id, "scorecard")
    client = TestClient(create_app("core"))
    assert client.get(url).status_code == 401
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin"))
    headers = {"Authorization": f"Bearer {token}"}
    served = client.get(url, headers=headers)
    assert served.status_code == 200
    assert served.content == (tmp_path / "card.html").read_bytes()
    assert served.headers["content-security-policy"].startswith("default-src 'none'")
    assert served.headers["x-content-type-options"] == "nosniff"
    cookie = TestClient(create_app("core"), cookies={"_token": token})  # what the UI's iframe sends
    assert cookie.get(url).status_code == 200
    other = scorecard_url("scorecard_page", dag_run.run_id, "campaigns")
    assert client.get(other, headers=headers).status_code == 404
    assert client.get(scorecard_url("scorecard_page", "no-such-run", "scorecard"), headers=headers).status_code == 404
    viewer = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="nobody", role=None))
    assert client.get(url, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
