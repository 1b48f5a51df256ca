"""Temporary names that say whose they are, and removing a killed run's leftovers.

Every temporary file or folder this provider makes (an output's ``.tmp`` file, a spool
folder) is named by :func:`temp_tag`, so a later run on the same host can tell a dead
process's leftovers from a live writer's and remove them.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from pathlib import Path

TEMP_PREFIX = "convoso-"  # every temporary file or folder this provider makes starts with it


def temp_tag() -> str:
    """``convoso-HOST-PID-RANDOM``: a temporary name that says whose it is, so a later run
    can tell a killed run's leftovers from a live writer's."""
    return f"{TEMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(name: str, *, now: float | None = None, mtime: float = 0.0, max_age: float = 3600.0) -> bool:
    """Tell whether a temporary name of :func:`temp_tag`'s form belongs to a run that is gone.

    On this host: its process no longer exists. Written from another host (a shared
    folder): it is older than ``max_age`` seconds.
    """
    match = _TEMP_NAME.search(name)
    if match is None:
        return False
    if match["host"] == socket.gethostname():
        return not _alive(int(match["pid"]))
    return (now if now is not None else time.time()) - mtime > max_age


_TEMP_NAME = re.compile(rf"{TEMP_PREFIX}(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{{12}}")


def remove_stale(folder: Path, pattern: str) -> list[str]:
    """Remove the files and folders matching ``pattern`` in ``folder`` that :func:`is_stale` says are leftovers.

    :return: the names removed.
    """
    import shutil

    removed = []
    for candidate in folder.glob(pattern):
        try:
            mtime = candidate.stat().st_mtime
        except OSError:
            continue
        if is_stale(candidate.name, mtime=mtime):
            if candidate.is_dir():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                candidate.unlink(missing_ok=True)
            removed.append(candidate.name)
    return removed
