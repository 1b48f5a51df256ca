"""BodySpool: answers on disk between fetching and writing, read back in key order."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from airflow_provider_convoso.spool import BodySpool


@pytest.mark.parametrize("on_disk", [True, False])
def test_bodies_come_back_in_key_order_as_added_and_again_on_every_pass(on_disk: bool) -> None:
    with BodySpool(on_disk=on_disk) as spool:
        spool.add("2026-01-02", b'{"b": 2}')
        spool.add("2026-01-01", b'{"a": 1}')
        spool.add("2026-01-03", '[{"c": 3}]'.encode("utf-16"))
        first = list(spool.items())
        assert first == list(spool.items())
        assert first == [
            ("2026-01-01", b'{"a": 1}'),
            ("2026-01-02", b'{"b": 2}'),
            ("2026-01-03", '[{"c": 3}]'.encode("utf-16")),
        ]
        assert len(spool) == 3 and spool.size == 16 + len('[{"c": 3}]'.encode("utf-16"))


def test_bodies_live_compressed_in_one_file_on_disk_and_go_with_the_spool() -> None:
    spool = BodySpool()
    bodies = {
        f"k{n}": b'{"success": true, "data": [' + b", ".join([b'{"calls": "%d", "name": "Jane"}' % n] * 500) + b"]}"
        for n in range(3)
    }
    for key, body in bodies.items():
        spool.add(key, body)
    [stored] = list(Path(spool._directory.name).iterdir())
    assert 0 < stored.stat().st_size < sum(map(len, bodies.values())) / 5
    assert list(spool.items()) == list(bodies.items()) and spool.size == sum(map(len, bodies.values()))
    spool.close()
    assert not stored.parent.exists() and spool._file.closed


def test_adds_from_many_threads_keep_every_body() -> None:
    with BodySpool() as spool:
        threads = [threading.Thread(target=spool.add, args=(f"{n:03d}", str(n).encode())) for n in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [(key, body) for key, body in spool.items()] == [(f"{n:03d}", str(n).encode()) for n in range(64)]
        assert spool.size == sum(len(str(n)) for n in range(64))


@pytest.mark.parametrize("on_disk", [True, False])
def test_arriving_yields_the_keys_in_the_order_asked_as_another_thread_adds_them(on_disk: bool) -> None:
    keys = [f"2026-01-{day:02d}" for day in range(1, 32)]
    with BodySpool(on_disk=on_disk) as spool:
        adder = threading.Thread(target=lambda: [spool.add(key, key.encode()) for key in reversed(keys)])
        adder.start()
        got = list(spool.arriving(keys, wait_s=5.0, waiting=lambda: None))
        adder.join()
        assert got == [(key, key.encode()) for key in keys]
        assert list(spool.arriving(keys, wait_s=5.0, waiting=lambda: None)) == got  # again, without waiting


class _SignallingCondition(threading.Condition):
    """A condition that says when a reader starts waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def test_other_keys_arriving_while_it_waits_do_not_count_as_waiting() -> None:
    keys = [f"{n:02d}" for n in range(8)]
    with BodySpool(on_disk=False) as spool:
        spool._changed = changed = _SignallingCondition()

        def add_each_while_the_reader_waits() -> None:
            for key in [*reversed(keys[1:]), keys[0]]:
                assert changed.waiting.wait(10)
                changed.waiting.clear()
                spool.add(key, key.encode())

        adder = threading.Thread(target=add_each_while_the_reader_waits)
        adder.start()
        got = list(spool.arriving(keys, wait_s=60.0, waiting=lambda: pytest.fail("called before wait_s passed")))
        adder.join()
        assert got == [(key, key.encode()) for key in keys]


def test_arriving_calls_waiting_until_the_body_is_added() -> None:
    with BodySpool() as spool:
        calls: list[int] = []

        def waiting() -> None:
            calls.append(len(spool))
            if len(calls) == 3:
                spool.add("a", b"1")

        assert list(spool.arriving(["a"], wait_s=0.001, waiting=waiting)) == [("a", b"1")]
        assert calls == [0, 0, 0]


def test_arriving_yields_what_was_added_then_raises_the_error_that_ended_the_adding() -> None:
    with BodySpool() as spool:
        spool.add("a", b"1")
        spool.end(ConnectionError("day b failed"))
        got = spool.arriving(["a", "b", "c"], wait_s=5.0, waiting=lambda: pytest.fail("must not wait"))
        assert next(got) == ("a", b"1")
        with pytest.raises(ConnectionError, match="day b failed"):
            next(got)


def test_arriving_refuses_a_key_never_added_once_the_adding_ended() -> None:
    with BodySpool(on_disk=False) as spool:
        spool.end()
        with pytest.raises(LookupError, match="no body was added under 'a'"):
            list(spool.arriving(["a"], wait_s=5.0, waiting=lambda: pytest.fail("must not wait")))


def test_a_body_is_written_whole_when_pwrite_writes_less_than_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    real = os.pwrite
    monkeypatch.setattr(os, "pwrite", lambda fd, data, offset: real(fd, bytes(data[:7]), offset))
    with BodySpool() as spool:
        spool.add("a", b"first body " * 40)
        spool.add("b", b"second body " * 40)
        assert list(spool.items()) == [("a", b"first body " * 40), ("b", b"second body " * 40)]
