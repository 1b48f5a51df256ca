"""BackgroundLoop: a coroutine on its own loop in a worker thread, stopped from the caller's."""

from __future__ import annotations

import asyncio
import threading

from airflow_provider_convoso.background import BackgroundLoop


class _Exits:
    def __init__(self) -> None:
        self.errors: list[BaseException | None] = []
        self.ended = threading.Event()

    def __call__(self, error: BaseException | None) -> None:
        self.errors.append(error)
        self.ended.set()


def test_the_work_runs_in_its_own_thread_and_reports_its_return() -> None:
    exits, threads = _Exits(), []

    async def work() -> None:
        threads.append(threading.current_thread().name)
        await asyncio.sleep(0)

    runner = BackgroundLoop(work, name="bg-test", on_exit=exits).start()
    assert exits.ended.wait(10)
    assert runner.stop(10)
    assert threads == ["bg-test"] and exits.errors == [None]


def test_the_works_error_is_handed_to_on_exit() -> None:
    exits = _Exits()

    async def work() -> None:
        raise ConnectionError("refused")

    runner = BackgroundLoop(work, name="bg-test", on_exit=exits).start()
    assert exits.ended.wait(10) and runner.stop(10)
    [error] = exits.errors
    assert isinstance(error, ConnectionError) and str(error) == "refused"


def test_stop_cancels_running_work_and_waits_for_its_cleanup() -> None:
    exits, started, cleaned = _Exits(), threading.Event(), []

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # never set: only a cancellation ends it
        finally:
            await asyncio.sleep(0)  # cleanup that needs the loop
            cleaned.append(True)

    runner = BackgroundLoop(work, name="bg-test", on_exit=exits).start()
    assert started.wait(10)
    assert runner.stop(10)
    assert cleaned == [True]
    [error] = exits.errors
    assert isinstance(error, asyncio.CancelledError)


def test_stopped_before_it_starts_the_work_never_runs() -> None:
    exits, ran = _Exits(), []

    async def work() -> None:
        ran.append(True)

    runner = BackgroundLoop(work, name="bg-test", on_exit=exits)
    assert runner.stop(10)
    runner.start()
    assert exits.ended.wait(10)
    assert ran == []
    [error] = exits.errors
    assert isinstance(error, asyncio.CancelledError)


def test_stop_gives_up_after_its_timeout_when_the_cleanup_hangs() -> None:
    exits, started, release = _Exits(), threading.Event(), threading.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.to_thread(release.wait, 10)  # a cleanup stuck until released

    runner = BackgroundLoop(work, name="bg-test", on_exit=exits).start()
    assert started.wait(10)
    assert runner.stop(0.05) is False
    release.set()
    assert exits.ended.wait(10) and runner.stop(10)


def test_stop_without_cancel_lets_the_work_finish_on_its_own() -> None:
    exits, started, release = _Exits(), threading.Event(), threading.Event()

    async def work() -> None:
        started.set()
        await asyncio.to_thread(release.wait, 10)

    runner = BackgroundLoop(work, name="bg-test", on_exit=exits).start()
    assert started.wait(10)
    assert runner.stop(0.05, cancel=False) is False  # still running, not cancelled
    release.set()
    assert runner.stop(10, cancel=False)
    assert exits.errors == [None]
