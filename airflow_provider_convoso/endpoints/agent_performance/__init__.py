"""Agent performance (``agent-performance/search``): the request model a DAG file needs.

The rest lives in submodules imported by the code that runs a request: :mod:`.reading`
(answers), :mod:`.records` (typing), :mod:`.quality` and :mod:`.inspection` (the
contract's checks), :mod:`.scoring`, :mod:`.settle` and :mod:`.backfill`.
"""

from __future__ import annotations

from airflow_provider_convoso.endpoints.agent_performance.query import AgentPerformanceQuery

__all__ = ["AgentPerformanceQuery"]
