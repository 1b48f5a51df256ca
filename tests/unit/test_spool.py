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


def test_bodies_live_compressed_on_disk_and_go_with_the_spool() -> None:
    spool = BodySpool()
    body = b'{"success": true, "data": [' + b", ".join([b'{"calls": "12", "name": "Jane"}'] * 500) + b"]}"
    spool.add("k", body)
    [stored] = list(Path(spool._directory.name).iterdir())
    assert 0 < stored.stat().st_size < len(body) / 5
    assert list(spool.items()) == [("k", body)] and spool.size == len(body)
    spool.close()
    assert not stored.parent.exists()


def test_adds_from_many_threads_keep_every_body() -> None:
    with BodySpool() as spool:
        threads = [threading.Thread(target=spool.add, args=(f"{n:03d}", str(n).encode())) for n in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [(key, body) for key, body in spool.items()] == [(f"{n:03d}", str(n).encode()) for n in range(64)]
        assert spool.size == sum(len(str(n)) for n in range(64))
