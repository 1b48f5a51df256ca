"""The published table schemas, one per record type: ``ddl(table, dialect)`` and ``json_schema(table)``.

Importable without Airflow's heavy parts (a warehouse job, a DDL migration, a test): each
endpoint's schema lives beside the code that types its records and is imported on first use.

>>> from airflow_provider_convoso.schemas import ddl
>>> print(ddl("call_logs", "postgres", name="convoso.call_logs"))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from airflow_provider_convoso.exceptions import ConvosoInputError

if TYPE_CHECKING:
    from airflow_provider_convoso.tables import Table

#: Record type -> (module, attribute, key) of its schema.
_HOMES: dict[str, tuple[str, str, str | None]] = {
    "agent_performance": ("endpoints.agent_performance.records", "TABLE", None),
    "call_logs": ("endpoints.call_logs.records", "TABLE", None),
    "agent_productivity": ("endpoints.agent_productivity", "TABLE", None),
    "users": ("endpoints.lookups", "SCHEMAS", "users"),
    "campaigns": ("endpoints.lookups", "SCHEMAS", "campaigns"),
    "lists": ("endpoints.lookups", "SCHEMAS", "lists"),
    "statuses": ("endpoints.lookups", "SCHEMAS", "statuses"),
    "leads": ("endpoints.leads.records", "TABLE", None),
}

#: Every record type with a published schema.
TABLE_NAMES: tuple[str, ...] = tuple(_HOMES)


def table(name: str) -> Table:
    """Return the schema of a record type.

    :param name: one of :data:`TABLE_NAMES`.
    :return: its :class:`~airflow_provider_convoso.tables.Table` (columns in the writers'
        order, kinds, natural key).
    :raises ConvosoInputError: an unknown record type.
    """
    if name not in _HOMES:
        raise ConvosoInputError(f"table must be one of {', '.join(TABLE_NAMES)}, got {name!r}")
    module, attribute, key = _HOMES[name]
    found = getattr(importlib.import_module(f"airflow_provider_convoso.{module}"), attribute)
    return found[key] if key is not None else found  # type: ignore[no-any-return]


def ddl(table_name: str, dialect: str, name: str | None = None, *, extra_columns: tuple[str, ...] = ()) -> str:
    """Return ``CREATE TABLE`` text for a record type, in the order the CSV writer puts its columns.

    :param table_name: one of :data:`TABLE_NAMES`.
    :param dialect: ``postgres``, ``snowflake`` or ``bigquery``.
    :param name: the table's name (``schema.table`` allowed); default the record type's.
    :param extra_columns: text columns after the published ones (a lead table's custom
        fields), sorted as the writers put them.
    :return: the statement.
    """
    from airflow_provider_convoso.tables import create_table

    return create_table(table(table_name), dialect, name, tuple(extra_columns))


def json_schema(table_name: str) -> dict[str, Any]:
    """Return the JSON Schema (2020-12) of one JSONL record of a record type.

    :param table_name: one of :data:`TABLE_NAMES`.
    :return: the schema.
    """
    from airflow_provider_convoso import tables

    return tables.json_schema(table(table_name))


def parquet_schema(table_name: str) -> Any:
    """Return the Arrow schema of a record type's Parquet columns (needs pyarrow).

    :param table_name: one of :data:`TABLE_NAMES`.
    :return: a ``pyarrow.Schema``.
    """
    from airflow_provider_convoso import tables

    return tables.arrow_schema(table(table_name))
