"""The agent scorecard inside Airflow: a route on the API server and a task-instance tab.

On Airflow 3 a FastAPI app mounted at ``/convoso`` serves the page a scorecard task instance
wrote, behind Airflow's own authentication and its task-instance read permission on the DAG;
from 3.1 an ``external_views`` entry shows it as a tab of the task-instance page. On 2.11 a
Flask blueprint serves the same route on the webserver, behind its login and the same
permission. The route serves only task instances of :class:`AgentScorecardOperator`, from the
``path`` in their result, with a policy that lets the page load nothing; the operator's
``Scorecard`` extra link points to it on every line.
"""

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_convoso.compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS
from airflow_provider_convoso.endpoints.agent_performance.scorecard import URL_PREFIX

#: What the browser may do with a served page: nothing but its own inline styles.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _result(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any] | None:
    """The scorecard task instance's result, or ``None`` when it is not one."""
    import json

    from airflow.models import xcom
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    # The XCom table's model: XComModel on Airflow 3, BaseXCom (the model itself) on 2.11.
    XComModel = getattr(xcom, "XComModel", None) or xcom.BaseXCom

    where = (
        TaskInstance.dag_id == dag_id,
        TaskInstance.run_id == run_id,
        TaskInstance.task_id == task_id,
        TaskInstance.map_index == map_index,
    )
    operator = session.scalar(select(TaskInstance.operator).where(*where))
    if operator != "AgentScorecardOperator":
        return None
    value = session.scalar(
        select(XComModel.value).where(
            XComModel.dag_id == dag_id,
            XComModel.run_id == run_id,
            XComModel.task_id == task_id,
            XComModel.map_index == map_index,
            XComModel.key == "return_value",
        )
    )
    while isinstance(value, str | bytes):  # stored as JSON text on some databases and lines
        value = json.loads(value)
    return value if isinstance(value, dict) and isinstance(value.get("path"), str) else None


def create_app() -> Any:
    """Return the FastAPI app serving scorecards (Airflow 3's API server mounts it).

    :return: the app.
    """
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.common.db.common import SessionDep
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import HTMLResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.requests import Request

    app = FastAPI(title="Convoso scorecards", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(StarletteHTTPException)
    async def _refused(request: Request, error: StarletteHTTPException) -> Any:
        from fastapi.exception_handlers import http_exception_handler

        if error.status_code == 401 and "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(_LOADER, status_code=401, headers=_loader_headers())
        return await http_exception_handler(request, error)

    # This module has no ``from __future__ import annotations``: FastAPI reads the route's
    # annotations at runtime, and ``SessionDep`` is a name local to this function.

    @app.get(
        "/scorecard/{dag_id}/{run_id}/{task_id}",
        response_class=HTMLResponse,
        dependencies=[Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.TASK_INSTANCE))],
    )
    def scorecard(dag_id: str, run_id: str, task_id: str, session: SessionDep, map_index: str = "-1") -> HTMLResponse:
        index = _map_index(map_index)
        if index is None:
            raise HTTPException(status_code=400, detail="map_index must be an integer")
        result = _result(session, dag_id, run_id, task_id, index)
        if result is None:
            raise HTTPException(status_code=404, detail="No scorecard for this task instance")
        content = _page(result)
        if content is None:
            raise HTTPException(status_code=404, detail="The scorecard this task wrote is gone")
        return HTMLResponse(content, headers=_HEADERS)

    return app


#: What a browser gets from the route without a credential, on Airflow 3: no data, only a
#: script that asks again with the token Airflow 3.0's UI keeps in the browser's local
#: storage (3.0's UI sends it as a header and keeps no cookie, so a link opened from it
#: carries none), and shows the page only when Airflow accepts that token.
_LOADER_SCRIPT = """(async () => {
  const say = (text) => { document.getElementById("status").textContent = text; };
  const token = localStorage.getItem("token");
  if (!token) { say("Log in to Airflow, then open this scorecard again."); return; }
  const answer = await fetch(location.href, {headers: {Authorization: "Bearer " + token}, credentials: "omit"});
  if (!answer.ok) { say("Airflow refused this scorecard (HTTP " + answer.status + "): log in again."); return; }
  const page = await answer.text();
  document.open();
  document.write(page);
  document.close();
})();"""
_LOADER = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Scorecard</title>'
    f'<p id="status">Loading the scorecard…</p><script>{_LOADER_SCRIPT}</script></html>'
)


def _loader_headers() -> dict[str, str]:
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(_LOADER_SCRIPT.encode()).digest()).decode()
    policy = f"default-src 'none'; script-src 'sha256-{digest}'; connect-src 'self'; style-src 'unsafe-inline'"
    return {**_HEADERS, "Content-Security-Policy": policy + "; frame-ancestors 'self'"}


def _map_index(given: str) -> int | None:
    """The task instance's map index from the query, ``None`` when it is not one.

    The UI fills ``{MAP_INDEX}`` in a tab's address only for a mapped task instance and
    leaves the placeholder as written otherwise: that means an unmapped one (``-1``).
    """
    if given == "{MAP_INDEX}":
        return -1
    try:
        return int(given)
    except ValueError:
        return None


def _page(result: dict[str, Any]) -> bytes | None:
    """The bytes of the page a scorecard task wrote, or ``None`` when it is gone."""
    from airflow_provider_convoso.compat import object_storage_path

    try:
        content: bytes = object_storage_path(result["path"], result.get("output_conn_id") or None).read_bytes()
    except FileNotFoundError:
        return None
    return content


def create_blueprint() -> Any:
    """Return the Flask blueprint serving scorecards on Airflow 2.11's webserver.

    :return: the blueprint, behind the webserver's login and task-instance read permission.
    """
    from airflow.auth.managers.models.resource_details import DagAccessEntity
    from airflow.utils.session import create_session
    from airflow.www.auth import has_access_dag
    from flask import Blueprint, Response, abort, request

    blueprint = Blueprint("convoso_scorecard", __name__, url_prefix=URL_PREFIX)

    @blueprint.route("/scorecard/<dag_id>/<run_id>/<task_id>")
    @has_access_dag("GET", DagAccessEntity.TASK_INSTANCE)  # type: ignore[untyped-decorator]  # 2.11 only
    def scorecard(dag_id: str, run_id: str, task_id: str) -> Any:
        map_index = _map_index(request.args.get("map_index", "-1"))
        if map_index is None:
            abort(400)
        with create_session() as session:
            result = _result(session, dag_id, run_id, task_id, map_index)
        content = None if result is None else _page(result)
        if content is None:
            abort(404)
        return Response(content, mimetype="text/html", headers=_HEADERS)

    return blueprint


def _flask_blueprints() -> list[Any]:
    return [] if AIRFLOW_V_3_0_PLUS else [create_blueprint()]


def _fastapi_apps() -> list[dict[str, Any]]:
    if not AIRFLOW_V_3_0_PLUS:
        return []
    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Convoso scorecards"}]


def _external_views() -> list[dict[str, Any]]:
    if not AIRFLOW_V_3_1_PLUS:
        return []
    return [
        {
            "name": "Scorecard",
            "href": URL_PREFIX + "/scorecard/{DAG_ID}/{RUN_ID}/{TASK_ID}?map_index={MAP_INDEX}",
            "destination": "task_instance",
            "url_route": "convoso_scorecard",
        }
    ]


class ConvosoScorecardPlugin(AirflowPlugin):
    """The scorecard route (Airflow 3's API server, 2.11's webserver), its task-instance tab from 3.1."""

    name = "convoso_scorecard"
    flask_blueprints = _flask_blueprints()
    fastapi_apps = _fastapi_apps()
    external_views = _external_views()
