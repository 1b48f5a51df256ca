"""Provider metadata for Airflow's ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_convoso import __version__
from airflow_provider_convoso.connection_form import EXTRA_FIELDS, UI_FIELD_BEHAVIOUR, conn_field_schema

_INTEGRATION = "Convoso"


def get_provider_info() -> dict[str, Any]:
    """What Airflow's providers manager reads: modules, connection type and form fields."""
    return {
        "package-name": "airflow-provider-convoso",
        "name": "Convoso",
        "description": "Convoso call-center API (agent performance, call logs, agent productivity, lookup tables, "
        "leads, call recordings): hook, extract operators, sensor and trigger.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://www.convoso.com/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_convoso.hooks.convoso"]}],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider_convoso.operators.agent_performance",
                    "airflow_provider_convoso.operators.agent_productivity",
                    "airflow_provider_convoso.operators.agent_scorecard",
                    "airflow_provider_convoso.operators.call_logs",
                    "airflow_provider_convoso.operators.call_recordings",
                    "airflow_provider_convoso.operators.leads",
                    "airflow_provider_convoso.operators.lookups",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider_convoso.sensors.agent_performance"],
            }
        ],
        "triggers": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider_convoso.triggers.agent_performance"],
            }
        ],
        "extra-links": ["airflow_provider_convoso.operators.agent_scorecard.ScorecardLink"],
        "plugins": [
            {
                "name": "convoso_scorecard",
                "plugin-class": "airflow_provider_convoso.plugins.scorecard.ConvosoScorecardPlugin",
            }
        ],
        "connection-types": [
            {
                "connection-type": "convoso",
                "hook-class-name": "airflow_provider_convoso.hooks.convoso.ConvosoHook",
                "hook-name": "Convoso",
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
                "conn-fields": {
                    name: {
                        "label": field["label"],
                        "description": field["description"],
                        "schema": conn_field_schema(field),
                    }
                    for name, field in EXTRA_FIELDS.items()
                },
            }
        ],
    }
