"""Apache Airflow provider for Convoso's Agent Performance API."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
