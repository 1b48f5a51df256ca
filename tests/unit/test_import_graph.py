"""The package's import graph: no cycle, and no import running up the Airflow shell.

Read from the source (every ``import``, function-local ones included), each top-level
module or subpackage one node. The shell runs core -> hooks -> triggers -> sensors and
operators: a node imports only nodes below it, and the emulator imports no client code.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import airflow_provider_convoso

PACKAGE = "airflow_provider_convoso"
ROOT = Path(airflow_provider_convoso.__file__).parent
#: How far up the Airflow shell a node sits; every other node is core (0).
SHELL = {"hooks": 1, "triggers": 2, "sensors": 3, "operators": 3}


def _node(module: str) -> str:
    """``airflow_provider_convoso.hooks.convoso`` -> ``hooks``; ``….endpoints.call_logs.query`` ->
    ``endpoints.call_logs``; the package itself -> ``__init__``."""
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "endpoints":
        return ".".join(parts[1:3])  # each endpoint is a node of its own
    return parts[1] if len(parts) > 1 else "__init__"


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Return each node's set of the package's nodes it imports (itself left out).

    :param root: the package folder.
    :return: node -> imported nodes.
    """
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        module = ".".join((PACKAGE, *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        source = _node(module)
        targets = graph.setdefault(source, set())
        for statement in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(statement, ast.ImportFrom) and statement.level:
                raise AssertionError(f"{path}: relative import; the graph reads absolute ones")
            if isinstance(statement, ast.ImportFrom) and statement.module == PACKAGE:
                # `from airflow_provider_convoso import x`: x is a submodule or a name of __init__
                for alias in statement.names:
                    is_module = (root / alias.name).is_dir() or (root / f"{alias.name}.py").exists()
                    targets.add(alias.name if is_module else "__init__")
            elif isinstance(statement, ast.ImportFrom) and (statement.module or "").startswith(PACKAGE + "."):
                targets.add(_node(statement.module or ""))
            elif isinstance(statement, ast.Import):
                targets.update(_node(alias.name) for alias in statement.names if alias.name.startswith(PACKAGE + "."))
        targets.discard(source)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        return list(error.args[1])
    return None


def _runs_up(source: str, target: str) -> bool:
    """An import to a higher shell node, or between two shell siblings (sensors, operators)."""
    above = SHELL.get(target, 0) > SHELL.get(source, 0)
    siblings = source in SHELL and SHELL.get(target) == SHELL[source]
    return above or siblings


def _upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted(
        (source, target) for source, targets in graph.items() for target in targets if _runs_up(source, target)
    )


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert {"hooks", "operators", "sensors", "triggers", "testing"} <= graph.keys()
    assert _cycle(graph) is None


def test_no_import_runs_up_the_shell() -> None:
    graph = import_graph()
    assert _upward(graph) == []
    assert graph["testing"] <= {"__init__"}  # the emulator imports no client code


@pytest.mark.parametrize(
    ("graph", "cycle", "upward"),
    [
        ({"a": {"b"}, "b": {"a"}}, True, []),
        ({"records": {"hooks"}, "hooks": set()}, False, [("records", "hooks")]),
        ({"hooks": {"operators"}, "operators": {"hooks"}}, True, [("hooks", "operators")]),
        ({"sensors": {"operators"}, "operators": set()}, False, [("sensors", "operators")]),
        ({"sensors": {"triggers", "hooks"}, "triggers": {"hooks"}, "hooks": {"records"}}, False, []),
    ],
)
def test_the_checks_see_a_cycle_and_an_upward_import(
    graph: dict[str, set[str]], cycle: bool, upward: list[tuple[str, str]]
) -> None:
    assert (_cycle(graph) is not None) is cycle
    assert _upward(graph) == upward
