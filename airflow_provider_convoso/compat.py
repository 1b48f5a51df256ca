"""Every difference between Airflow 2.11 and Airflow 3.x, in one place.

Airflow 3 exposes the authoring API as ``airflow.sdk``; Airflow 2.11 keeps the older
module paths. Everything else in the provider imports these names from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION

AIRFLOW_V_3_0_PLUS = int(AIRFLOW_VERSION.split(".")[0]) >= 3

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import BaseHook, BaseOperator, BaseSensorOperator, PokeReturnValue, conf
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )
    from airflow.sdk.log import mask_secret
else:
    from airflow.configuration import conf  # type: ignore[no-redef]
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
    from airflow.models import BaseOperator  # type: ignore[no-redef]
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue  # type: ignore[no-redef]
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath


def __getattr__(name: str) -> Any:
    """Names imported on first use: operator and sensor modules (which the DAG processor
    imports constantly) need none of them, only DAG files and triggers do."""
    if name in ("BaseTrigger", "TriggerEvent"):
        from airflow.triggers import base

        return getattr(base, name)
    if name in ("DAG", "task"):
        if AIRFLOW_V_3_0_PLUS:
            import airflow.sdk as authoring
        else:
            import airflow.decorators
            import airflow.models

            return airflow.models.DAG if name == "DAG" else airflow.decorators.task
        return getattr(authoring, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def object_storage_path(path: str, conn_id: str | None) -> ObjectStoragePath:
    """``ObjectStoragePath`` for ``path``, imported on first use (it loads fsspec backends).

    A scheme that no Airflow provider registers but fsspec knows (``memory://``, say) is
    attached as a plain fsspec filesystem when no connection is given.
    """
    from urllib.parse import urlsplit

    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk import ObjectStoragePath as _Path
        from airflow.sdk.io.fs import has_fs
        from airflow.sdk.io.store import attach
    else:
        from airflow.io import has_fs  # type: ignore[no-redef]
        from airflow.io.path import ObjectStoragePath as _Path  # type: ignore[no-redef]
        from airflow.io.store import attach  # type: ignore[no-redef]

    scheme = urlsplit(path).scheme
    if scheme and conn_id is None and not has_fs(scheme):
        import fsspec

        if scheme in fsspec.available_protocols():
            attach(protocol=scheme, fs=fsspec.filesystem(scheme))
    return _Path(path, conn_id=conn_id)


def asset(uri: str) -> Any:
    """An ``Asset`` (Airflow 3) for ``uri``."""
    from airflow.sdk import Asset

    return Asset(uri)


def is_asset_alias(obj: Any) -> bool:
    """True when ``obj`` is an ``AssetAlias`` (Airflow 3 only; always false on 2.11)."""
    if not AIRFLOW_V_3_0_PLUS:
        return False
    from airflow.sdk import AssetAlias

    return isinstance(obj, AssetAlias)


async def amask_secret(secret: str) -> None:
    """Mask a secret from async code: Airflow 3's ``amask_secret`` never blocks the loop
    on the supervisor channel; 2.11's masker is in-process only."""
    if AIRFLOW_V_3_0_PLUS:
        import airflow.sdk.log

        masker = getattr(airflow.sdk.log, "amask_secret", None)
        if masker is not None:
            await masker(secret)
            return
    mask_secret(secret)


async def aget_connection(conn_id: str) -> Any:
    """Fetch a connection without blocking the event loop.

    Airflow 3 has an async-safe ``BaseHook.aget_connection``; on 2.11 the blocking lookup
    runs in a worker thread.
    """
    if AIRFLOW_V_3_0_PLUS:
        return await BaseHook.aget_connection(conn_id)
    return await asyncio.to_thread(BaseHook.get_connection, conn_id)


def dag_test(dag: Any, logical_date: Any) -> Any:
    """``dag.test()`` for one logical date: the keyword is ``execution_date`` on 2.11."""
    if AIRFLOW_V_3_0_PLUS:
        return dag.test(logical_date=logical_date)
    return dag.test(execution_date=logical_date)


@functools.cache
def _failing_type(error_type: type) -> type[BaseException]:
    failing: type[BaseException] = type(
        error_type.__name__,
        (error_type, AirflowFailException),
        {"__module__": error_type.__module__, "__qualname__": error_type.__qualname__},
    )
    return failing


def fail_fast(error: BaseException) -> BaseException:
    """The same error, as a subclass of its type that is also an ``AirflowFailException``.

    The provider's pure modules raise plain typed errors; at the Airflow boundary permanent
    ones are re-typed so that Airflow fails the task at once instead of retrying it.
    """
    already_failing: bool = isinstance(error, AirflowFailException)
    if already_failing:
        return error
    failing_type: Any = _failing_type
    failing = failing_type(type(error))
    clone: BaseException = failing.__new__(failing, *error.args)
    clone.args = error.args
    clone.__dict__.update(error.__dict__)
    return clone


@contextlib.contextmanager
def failing_fast() -> Iterator[None]:
    """Re-raise any permanent Convoso error inside the block through :func:`fail_fast`."""
    from airflow_provider_convoso.exceptions import ConvosoPermanentError

    try:
        yield
    except ConvosoPermanentError as error:
        raise fail_fast(error) from None


__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_0_PLUS",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "PokeReturnValue",
    "aget_connection",
    "amask_secret",
    "asset",
    "conf",
    "dag_test",
    "fail_fast",
    "failing_fast",
    "is_asset_alias",
    "mask_secret",
    "object_storage_path",
]
