"""The published schemas against what the writers produce, field by field, for every record type.

Each record type is written by its operator from the emulator's data as Parquet, CSV and
JSONL; the Parquet columns must be the schema's (names, order, Arrow types), the CSV header
its columns in order, and every JSONL record valid under its JSON Schema.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow.parquet as pq
import pytest

from airflow_provider_convoso.exceptions import ConvosoInputError
from airflow_provider_convoso.schemas import TABLE_NAMES, ddl, json_schema, parquet_schema, table
from airflow_provider_convoso.testing import ConvosoEmulator

DAY = "2026-03-02"


def _operator(name: str, path: Path) -> Any:
    from airflow_provider_convoso.operators.agent_performance import AgentPerformanceOperator
    from airflow_provider_convoso.operators.agent_productivity import AgentProductivityOperator
    from airflow_provider_convoso.operators.call_logs import CallLogsOperator
    from airflow_provider_convoso.operators.leads import LeadsOperator
    from airflow_provider_convoso.operators.lookups import LookupTableOperator

    out = str(path)
    if name == "agent_performance":  # the table's rows are agent-days: a by-day extract
        return AgentPerformanceOperator(
            task_id="t", date_start="2026-03-01", date_end=DAY, split_by_day=True, output_path=out
        )
    if name == "call_logs":
        return CallLogsOperator(task_id="t", date=DAY, include_recordings=True, output_path=out)
    if name == "agent_productivity":
        return AgentProductivityOperator(task_id="t", date=DAY, output_path=out)
    if name == "leads":
        return LeadsOperator(task_id="t", date=DAY, custom_fields={"field_81": "appointment_at"}, output_path=out)
    return LookupTableOperator(task_id="t", table=name, output_path=out)


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_the_writers_produce_the_published_schema(convoso_conn: ConvosoEmulator, tmp_path: Path, name: str) -> None:
    published = table(name)
    for fmt in ("parquet", "csv", "jsonl"):
        _operator(name, tmp_path / f"{name}.{fmt}").execute({})
    arrow = pq.read_schema(tmp_path / f"{name}.parquet")
    expected = parquet_schema(name)
    fixed = len(published.columns)
    assert arrow.names[:fixed] == list(published.column_names)
    for field in expected:
        assert arrow.field(field.name).type == field.type, (name, field.name, arrow.field(field.name).type)
    extras = arrow.names[fixed:]
    assert extras == sorted(extras)  # fields the schema does not know follow, sorted
    header = next(csv.reader(io.StringIO((tmp_path / f"{name}.csv").read_text())))
    assert header == arrow.names
    schema = json_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    records = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
    assert records
    for record in records:
        errors = list(validator.iter_errors(record))
        assert not errors, (name, errors[0].message)
    if name == "leads":
        assert extras == ["appointment_at", "field_1", "field_84"]


@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "bigquery"])
@pytest.mark.parametrize("name", TABLE_NAMES)
def test_ddl_names_every_column_in_writer_order_with_the_key(name: str, dialect: str) -> None:
    text = ddl(name, dialect, name=f"convoso.{name}")
    quote = "`" if dialect == "bigquery" else '"'
    positions = [text.index(f"{quote}{column}{quote} ") for column in table(name).column_names]
    assert positions == sorted(positions)
    key = ", ".join(f"{quote}{column}{quote}" for column in table(name).key)
    assert f"PRIMARY KEY ({key})" in text
    assert text.startswith(f"CREATE TABLE IF NOT EXISTS {quote}convoso{quote}.{quote}{name}{quote} (")


def test_ddl_types_come_from_one_table_and_bad_arguments_are_refused() -> None:
    postgres, snowflake, bigquery = (ddl("leads", dialect) for dialect in ("postgres", "snowflake", "bigquery"))
    assert '"updated_at_utc" TIMESTAMPTZ' in postgres and '"called_count" BIGINT' in postgres
    assert '"updated_at_utc" TIMESTAMP_TZ' in snowflake and "`updated_at_utc` TIMESTAMP" in bigquery
    assert '"recording" JSONB' in ddl("call_logs", "postgres") and "`recording` JSON" in ddl("call_logs", "bigquery")
    assert "NOT ENFORCED" in bigquery and "NOT ENFORCED" not in postgres
    custom = ddl("leads", "postgres", extra_columns=("field_84", "appointment_at"))
    assert custom.index('"appointment_at" TEXT') < custom.index('"field_84" TEXT') < custom.index("PRIMARY KEY")
    with pytest.raises(ConvosoInputError, match="dialect"):
        ddl("leads", "mysql")
    with pytest.raises(ConvosoInputError, match="table must be one of"):
        ddl("calls", "postgres")
    with pytest.raises(ConvosoInputError, match="plain identifier"):
        ddl("leads", "postgres", name="leads; DROP TABLE x")


def test_the_warehouse_page_shows_the_generated_ddl() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "warehouse.md").read_text()
    for name in TABLE_NAMES:
        assert ddl(name, "postgres", name=f"convoso.{name}") in page, name
