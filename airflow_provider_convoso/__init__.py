"""Apache Airflow provider for Convoso's API: agent performance, call logs, agent productivity and lookups."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
