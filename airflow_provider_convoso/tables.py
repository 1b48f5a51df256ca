"""Published table schemas: columns, their kinds and nullability, the natural key, and how each
renders as ``CREATE TABLE`` (PostgreSQL, Snowflake, BigQuery), a JSON Schema and an Arrow schema.

One table of kinds maps to every rendering, so the dialects cannot disagree; each endpoint
declares its own :class:`Table` beside the code that types its records (naming no endpoint
here). Pure: no Airflow, and pyarrow only when an Arrow schema is asked for.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from airflow_provider_convoso.exceptions import ConvosoInputError

#: kind -> (PostgreSQL, Snowflake, BigQuery, JSON Schema) types.
_TYPES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "string": ("TEXT", "VARCHAR", "STRING", {"type": "string"}),
    "int": ("BIGINT", "NUMBER(19,0)", "INT64", {"type": "integer"}),
    "float": ("DOUBLE PRECISION", "FLOAT", "FLOAT64", {"type": "number"}),
    "bool": ("BOOLEAN", "BOOLEAN", "BOOL", {"type": "boolean"}),
    "date": ("DATE", "DATE", "DATE", {"type": "string", "format": "date"}),
    "timestamp": ("TIMESTAMPTZ", "TIMESTAMP_TZ", "TIMESTAMP", {"type": "string", "format": "date-time"}),
    "json": ("JSONB", "VARIANT", "JSON", {}),
}

DIALECTS = ("postgres", "snowflake", "bigquery")

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,2}")


@dataclasses.dataclass(frozen=True)
class Column:
    """One column: its name, kind (a key of the type table) and whether it may be null."""

    name: str
    kind: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if self.kind not in _TYPES:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")


@dataclasses.dataclass(frozen=True)
class Table:
    """A record type as a table: its columns in the writers' order and its natural key."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if len(names) != len(set(names)) or not set(self.key) <= set(names):
            raise ValueError(f"table {self.name!r}: repeated columns or a key outside them")

    @property
    def column_names(self) -> tuple[str, ...]:
        """Return the columns' names, in order."""
        return tuple(column.name for column in self.columns)

    @property
    def kinds(self) -> dict[str, str]:
        """Return column name -> kind."""
        return {column.name: column.kind for column in self.columns}


def _quote(name: str, dialect: str) -> str:
    return f"`{name}`" if dialect == "bigquery" else f'"{name}"'


def create_table(table: Table, dialect: str, name: str | None = None, extra_columns: tuple[str, ...] = ()) -> str:
    """Return ``CREATE TABLE`` text for ``table`` in ``dialect``.

    Every identifier is quoted (``user`` and ``date`` are reserved words), key columns are
    ``NOT NULL`` and form the primary key (not enforced in Snowflake and BigQuery).

    :param table: the table.
    :param dialect: ``postgres``, ``snowflake`` or ``bigquery``.
    :param name: the table's name (``schema.table`` allowed); default the record type's.
    :param extra_columns: text columns after the published ones, sorted as the writers
        put fields they do not know (a lead table's custom fields).
    :return: the statement.
    :raises ConvosoInputError: an unknown dialect or a name that is not an identifier.
    """
    if dialect not in DIALECTS:
        raise ConvosoInputError(f"dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")
    target = name or table.name
    if not _NAME_RE.fullmatch(target):
        raise ConvosoInputError(f"name must be a plain identifier (schema.table allowed), got {target!r}")
    position = DIALECTS.index(dialect)
    extras = [Column(extra, "string") for extra in sorted(set(extra_columns) - set(table.column_names))]
    lines = []
    for column in (*table.columns, *extras):
        null = " NOT NULL" if column.name in table.key or not column.nullable else ""
        lines.append(f"  {_quote(column.name, dialect)} {_TYPES[column.kind][position]}{null}")
    key = ", ".join(_quote(column, dialect) for column in table.key)
    lines.append(f"  PRIMARY KEY ({key})" + (" NOT ENFORCED" if dialect == "bigquery" else ""))
    qualified = ".".join(_quote(part, dialect) for part in target.split("."))
    return f"CREATE TABLE IF NOT EXISTS {qualified} (\n" + ",\n".join(lines) + "\n);\n"


def json_schema(table: Table) -> dict[str, Any]:
    """Return a JSON Schema (2020-12) of one JSONL record of ``table``.

    Fields outside the table are allowed (the service adds fields; the writers keep them).

    :param table: the table.
    :return: the schema.
    """
    properties: dict[str, Any] = {}
    for column in table.columns:
        schema = dict(_TYPES[column.kind][3])
        if column.nullable and column.name not in table.key and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        properties[column.name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": table.name,
        "type": "object",
        "properties": properties,
        "required": list(table.key),
        "additionalProperties": True,
    }


def arrow_schema(table: Table) -> Any:
    """Return the Arrow schema the Parquet writer gives ``table``'s columns.

    :param table: the table.
    :return: a ``pyarrow.Schema``.
    """
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("ms", tz="UTC"),
        "json": pa.string(),
    }
    return pa.schema([pa.field(c.name, types[c.kind], c.nullable and c.name not in table.key) for c in table.columns])
