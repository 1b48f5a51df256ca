"""Peak memory of a block of code, for memory-bound checks in tests and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"{field} is not in /proc/self/status")


def peak_memory(run: Callable[[], T]) -> tuple[T, int]:
    """``run()``'s result and how far the process's peak RSS rose above its RSS before it, in bytes.

    Linux only: the peak (``VmHWM``) is reset through ``/proc/self/clear_refs`` first, so
    earlier work does not hide this one. Run the same code once beforehand on a small input,
    so that code and libraries loaded on first use are not counted.
    """
    with open("/proc/self/clear_refs", "w") as reset:
        reset.write("5")
    before = _kib("VmRSS:")
    result = run()
    return result, (_kib("VmHWM:") - before) * 1024
