"""What the provider takes from Airflow, and from where, on each supported line.

Airflow 3 moved the authoring API into ``airflow.sdk`` a piece at a time: 3.0 has no
``BaseHook`` or ``conf`` there, 3.1 has ``BaseHook`` but not ``conf`` or the exceptions,
3.2 has them all; 2.11 has no ``airflow.sdk`` at all. :data:`_SOURCES` lists, for each
name, the modules that provide it, newest first: the first that has it wins. Names in
:data:`_EAGER` are resolved when this module is imported (the operator and sensor modules
subclass or call them); the rest on first use, since they pull in fsspec or the trigger
machinery that the DAG processor does not need.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION

AIRFLOW_V_3_0_PLUS = int(AIRFLOW_VERSION.split(".")[0]) >= 3
AIRFLOW_V_3_1_PLUS = tuple(int(part) for part in AIRFLOW_VERSION.split(".")[:2]) >= (3, 1)

#: name -> modules that provide it, newest Airflow line first.
_SOURCES: dict[str, tuple[str, ...]] = {
    "BaseHook": ("airflow.sdk", "airflow.hooks.base"),
    "BaseOperator": ("airflow.sdk", "airflow.models"),
    "BaseSensorOperator": ("airflow.sdk", "airflow.sensors.base"),
    "PokeReturnValue": ("airflow.sdk", "airflow.sensors.base"),
    "conf": ("airflow.sdk", "airflow.configuration"),
    "AirflowFailException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowSensorTimeout": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "AirflowSkipException": ("airflow.sdk.exceptions", "airflow.exceptions"),
    "mask_secret": ("airflow.sdk.log", "airflow.utils.log.secrets_masker"),
    # Lazy: only DAG files, triggers and object-storage outputs need these.
    "BaseOperatorLink": ("airflow.sdk", "airflow.models.baseoperatorlink"),
    "BaseTrigger": ("airflow.triggers.base",),
    "TriggerEvent": ("airflow.triggers.base",),
    "ObjectStoragePath": ("airflow.sdk", "airflow.io.path"),
    "has_fs": ("airflow.sdk.io.fs", "airflow.io"),
    "attach": ("airflow.sdk.io.store", "airflow.io.store"),
    "Asset": ("airflow.sdk",),
    "AssetAlias": ("airflow.sdk",),
    "DAG": ("airflow.sdk", "airflow.models"),
    "task": ("airflow.sdk", "airflow.decorators"),
    # A sensor waiting for settled data in reschedule mode keeps its state between pokes.
    "Variable": ("airflow.sdk", "airflow.models"),
    "AirflowRescheduleException": ("airflow.sdk.exceptions", "airflow.exceptions"),
}

_EAGER = (
    "BaseHook",
    "BaseOperator",
    "BaseSensorOperator",
    "PokeReturnValue",
    "conf",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "mask_secret",
)


def _resolve(name: str) -> Any:
    """The object ``name`` from the first of its modules that has it on this Airflow."""
    tried = []
    for module_name in _SOURCES[name]:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            tried.append(f"{module_name} (not installed)")
            continue
        if hasattr(module, name):
            return getattr(module, name)
        tried.append(module_name)
    raise ImportError(f"cannot find {name!r} on Airflow {AIRFLOW_VERSION}; looked in {', '.join(tried)}")


def _load(name: str) -> Any:
    """The object ``name``, resolved once and then kept as a module attribute."""
    if name not in globals():
        globals()[name] = _resolve(name)
    return globals()[name]


if TYPE_CHECKING:
    from airflow.sdk import (
        DAG,
        Asset,
        AssetAlias,
        BaseHook,
        BaseOperator,
        BaseOperatorLink,
        BaseSensorOperator,
        ObjectStoragePath,
        PokeReturnValue,
        Variable,
        conf,
        task,
    )
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowRescheduleException,
        AirflowSensorTimeout,
        AirflowSkipException,
    )
    from airflow.sdk.io.fs import has_fs
    from airflow.sdk.io.store import attach
    from airflow.sdk.log import mask_secret
    from airflow.triggers.base import BaseTrigger, TriggerEvent
else:
    for _name in _EAGER:
        _load(_name)

    def __getattr__(name: str) -> Any:
        if name not in _SOURCES:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return _load(name)


def object_storage_path(path: str, conn_id: str | None) -> ObjectStoragePath:
    """Return an ``ObjectStoragePath`` for ``path``, importing fsspec backends on first use.

    A scheme that no Airflow provider registers but fsspec knows (``memory://``, say) is
    attached as a plain fsspec filesystem when no connection is given.

    :param path: the URI, such as ``s3://bucket/key`` or ``file:///tmp/out``.
    :param conn_id: the Airflow connection of the store, or ``None``.
    :return: the path object.
    """
    from urllib.parse import urlsplit

    scheme = urlsplit(path).scheme
    if scheme and conn_id is None and not _load("has_fs")(scheme):
        import fsspec

        if scheme in fsspec.available_protocols():
            _load("attach")(protocol=scheme, fs=fsspec.filesystem(scheme))
    return _load("ObjectStoragePath")(path, conn_id=conn_id)  # type: ignore[no-any-return]


def is_asset_alias(obj: Any) -> bool:
    """Tell whether ``obj`` is an ``AssetAlias`` (Airflow 3 only; always false on 2.11).

    :param obj: any outlet.
    :return: ``True`` for an asset alias.
    """
    if not AIRFLOW_V_3_0_PLUS:
        return False
    return isinstance(obj, _load("AssetAlias"))


def asset(uri: str) -> Any:
    """Return an ``Asset`` (Airflow 3) for ``uri``.

    :param uri: the asset's URI.
    :return: the asset.
    """
    return _load("Asset")(uri)


async def amask_secret(secret: str) -> None:
    """Mask a secret from async code without blocking the loop.

    Airflow 3.3's ``amask_secret`` never blocks on the supervisor channel; earlier lines
    mask in-process only.

    :param secret: the value to mask in logs.
    """
    if AIRFLOW_V_3_0_PLUS:
        import airflow.sdk.log

        masker = getattr(airflow.sdk.log, "amask_secret", None)
        if masker is not None:
            await masker(secret)
            return
    mask_secret(secret)


async def aget_connection(conn_id: str) -> Any:
    """Fetch a connection without blocking the event loop.

    Airflow 3.1 and later have an async-safe ``BaseHook.aget_connection``; on 3.0 and
    2.11 the blocking lookup runs in a worker thread.

    :param conn_id: the connection's id.
    :return: the connection.
    """
    getter = getattr(BaseHook, "aget_connection", None)
    if getter is not None:
        return await getter(conn_id)
    return await asyncio.to_thread(BaseHook.get_connection, conn_id)


__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "DAG",
    "AirflowFailException",
    "AirflowRescheduleException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "Asset",
    "AssetAlias",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "BaseTrigger",
    "ObjectStoragePath",
    "PokeReturnValue",
    "TriggerEvent",
    "Variable",
    "aget_connection",
    "amask_secret",
    "asset",
    "attach",
    "conf",
    "has_fs",
    "is_asset_alias",
    "mask_secret",
    "object_storage_path",
    "task",
]
