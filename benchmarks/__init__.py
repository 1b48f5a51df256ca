"""Benchmarks for airflow-provider-convoso; run with ``python -m benchmarks``."""
