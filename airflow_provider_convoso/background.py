"""A coroutine run on its own event loop in a worker thread, stopped from the caller's thread.

Pure: no Airflow. A ``split_by_day`` backfill fetches on an event loop in the background
while the task's thread types, checks and writes the days already fetched; the work left
after the last answer is then one day's, not the whole range's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any


class BackgroundLoop:
    """Run ``work()`` under :func:`asyncio.run` in a daemon thread.

    :param work: makes the coroutine to run; it is called in the worker thread.
    :param name: the thread's name.
    :param on_exit: called in the worker thread when the work ends, with the error that
        ended it (``None`` when it returned), so the caller's thread can raise it.
    """

    def __init__(
        self,
        work: Callable[[], Coroutine[Any, Any, None]],
        *,
        name: str,
        on_exit: Callable[[BaseException | None], None],
    ) -> None:
        self._work = work
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> BackgroundLoop:
        """Start the thread.

        :return: this runner.
        """
        self._thread.start()
        return self

    def stop(self, timeout_s: float, *, cancel: bool = True) -> bool:
        """Wait for the thread to end, cancelling the work first unless told not to.

        :param timeout_s: the longest wait for the thread (the work's cleanup runs in it).
        :param cancel: cancel the work if it is still running; ``False`` lets it finish
            (its cleanup included) on its own.
        :return: whether the thread has ended.
        """
        with self._lock:
            self._stopping = self._stopping or cancel
            loop, task = self._loop, self._task
        if self._thread.ident is None:  # never started: it will not run the work
            return True
        if cancel and loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the work is over already
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            asyncio.run(self._main())
        except BaseException as caught:  # handed over: the caller's thread raises it
            error = caught
        finally:
            self._on_exit(error)

    async def _main(self) -> None:
        with self._lock:
            if self._stopping:
                raise asyncio.CancelledError
            self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        await self._work()
