"""The agent scorecard inside Airflow: a route on the API server and a task-instance tab.

On Airflow 3 a FastAPI app mounted at ``/convoso`` serves the page a scorecard task instance
wrote, behind Airflow's own authentication and its task-instance read permission on the DAG;
from 3.1 an ``external_views`` entry shows it as a tab of the task-instance page. The route
serves only task instances of :class:`AgentScorecardOperator`, from the ``path`` in their
result, with a policy that lets the page load nothing. On 2.11 the plugin adds nothing.
"""

from typing import Any
from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_convoso.compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS

#: Where the app is mounted on the API server.
URL_PREFIX = "/convoso"

#: What the browser may do with a served page: nothing but its own inline styles.
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def scorecard_url(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """Return the route of one task instance's scorecard (relative to the API server's root).

    :param dag_id: the DAG.
    :param run_id: the run.
    :param task_id: the scorecard task.
    :param map_index: the mapped index, ``-1`` when not mapped.
    :return: the path and query.
    """
    parts = "/".join(quote(part, safe="") for part in (dag_id, run_id, task_id))
    return f"{URL_PREFIX}/scorecard/{parts}?map_index={map_index}"


def _result(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any] | None:
    """The scorecard task instance's result, or ``None`` when it is not one."""
    import json

    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

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

    app = FastAPI(title="Convoso scorecards", docs_url=None, redoc_url=None, openapi_url=None)

    # This module has no ``from __future__ import annotations``: FastAPI reads the route's
    # annotations at runtime, and ``SessionDep`` is a name local to this function.

    @app.get(
        "/scorecard/{dag_id}/{run_id}/{task_id}",
        response_class=HTMLResponse,
        dependencies=[Depends(requires_access_dag(method="GET", access_entity=DagAccessEntity.TASK_INSTANCE))],
    )
    def scorecard(dag_id: str, run_id: str, task_id: str, session: SessionDep, map_index: int = -1) -> HTMLResponse:
        from airflow_provider_convoso.compat import object_storage_path

        result = _result(session, dag_id, run_id, task_id, map_index)
        if result is None:
            raise HTTPException(status_code=404, detail="No scorecard for this task instance")
        page = object_storage_path(result["path"], result.get("output_conn_id") or None)
        try:
            content = page.read_bytes()
        except FileNotFoundError:
            raise HTTPException(status_code=404, detail="The scorecard this task wrote is gone") from None
        return HTMLResponse(content, headers=_HEADERS)

    return app


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
    """The scorecard route on Airflow 3's API server, and its task-instance tab from 3.1."""

    name = "convoso_scorecard"
    fastapi_apps = _fastapi_apps()
    external_views = _external_views()
