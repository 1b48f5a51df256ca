"""The Convoso connection form: its extras, labels and placeholders, in one table.

Airflow 3's form reads ``conn-fields`` and ``ui-field-behaviour`` from the provider info;
Airflow 2.11's Flask form gets widgets from :func:`flask_widgets`. Both come from
:data:`EXTRA_FIELDS`. Airflow loads this module (through the provider info) while it
starts, so it imports nothing of the provider's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUEST_FORMATS = ("form", "json")
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024

#: Connection extras, for both connection forms (Flask widgets on 2.11, ``conn-fields`` on 3.x).
#: ``default`` is pre-filled in the form (and saved); the numeric extras stay empty unless
#: set, so a connection follows the provider's defaults, which their descriptions state.
EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "timeout": {"label": "Timeout (seconds)", "placeholder": "30", "type": "number",
                "description": "Seconds one attempt may take: connect, send and read (default 30)."},
    "max_retries": {"label": "Max retries", "placeholder": "5", "type": "integer",
                    "description": "Retries of a transient failure: 429, 5xx, timeout, reset (default 5)."},
    "retry_backoff": {"label": "Retry backoff (seconds)", "placeholder": "1", "type": "number",
                      "description": "Base of the exponential backoff, with full jitter (default 1)."},
    "retry_max_wait": {"label": "Max wait between retries (seconds)", "placeholder": "60", "type": "number",
                       "description": "Cap on one backoff or Retry-After wait (default 60)."},
    "request_format": {"label": "Request format", "placeholder": "form", "type": "string",
                       "enum": list(REQUEST_FORMATS), "default": "form",
                       "description": "form: form-encoded POST, what the service reads (default). json: the "
                                      "contract's example, not seen working against the live service."},
    "verify": {"label": "Verify TLS", "placeholder": "true", "type": "boolean", "default": True,
               "description": "Verify the API's TLS certificate (default on). Turn off only for a test endpoint; "
                              "a warning is logged."},
    "max_response_bytes": {"label": "Max response size (bytes)", "placeholder": "268435456", "type": "integer",
                           "description": "Largest decoded answer accepted, gzip included (default 268435456, "
                                          "256 MiB); a larger one fails the call."},
    "timezone": {"label": "Account time zone", "placeholder": "UTC", "type": "string",
                 "description": "The account's IANA time zone, e.g. America/Los_Angeles (default UTC): call-log "
                                "and productivity times are local to it, and a day's window is built in it."},
}  # fmt: skip


def conn_field_schema(field: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON schema of one extra for Airflow 3's connection form (``conn-fields``).

    A field with a default is not nullable and starts with that value, so the form shows
    what the provider does (Verify TLS on) and saves it; the others may stay empty.
    """
    if "default" in field:
        schema: dict[str, Any] = {"type": field["type"], "default": field["default"]}
    else:
        schema = {"type": [field["type"], "null"]}
    if "enum" in field:
        schema["enum"] = list(field["enum"])
    return schema


UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["login", "schema", "port"],
    "relabeling": {"password": "Auth Token", "host": "API base URL"},
    "placeholders": {
        "host": "https://api.convoso.com",
        "password": "Convoso auth token (API sections it can read: agent performance, call logs, ...)",
        **{name: field["placeholder"] for name, field in EXTRA_FIELDS.items()},
    },
}


def flask_widgets(fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """WTForms fields for Airflow 2.11's connection form, from the same table as ``conn-fields``.

    Airflow 2.11 registers a hook only if its widgets are string, integer, password or
    boolean fields (a ``SelectField`` drops the whole connection type), so a choice is a
    text field pre-filled with its default whose description names the values.
    """
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, StringField

    widgets: dict[str, Any] = {}
    for name, spec in fields.items():
        label = lazy_gettext(spec["label"])
        if spec["type"] == "boolean":
            widgets[name] = BooleanField(label, default=spec.get("default"), description=spec["description"])
        else:
            description = spec["description"]
            if "enum" in spec:
                description = f"One of: {', '.join(spec['enum'])}. {description}"
            widgets[name] = StringField(
                label, widget=BS3TextFieldWidget(), default=spec.get("default"), description=description
            )
    return widgets
