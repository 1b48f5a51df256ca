"""Typed errors raised by the Convoso provider.

Permanent errors derive from Airflow's ``AirflowFailException``, so a task fails at once
instead of being retried, and ``except ConvosoAuthError`` works everywhere. That ties this
module to Airflow's exception module, which every operator and sensor module loads anyway
(so the DAG processor pays nothing more). Every error pickles and unpickles with its
attributes, as Airflow does when it ships a failure between processes.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_convoso.compat import AirflowFailException


def _rebuild(error_type: type[BaseException], args: tuple[Any, ...], attributes: dict[str, Any]) -> BaseException:
    error = error_type.__new__(error_type, *args)
    error.args = args
    error.__dict__.update(attributes)
    return error


class ConvosoError(Exception):
    """Base class for every error this provider raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes (error_code, text, ...) survive pickling; the default
        # reduction would call __init__ with the message alone.
        return _rebuild, (type(self), self.args, dict(self.__dict__))


class ConvosoPermanentError(ConvosoError, AirflowFailException):
    """An error that will not go away on retry: fail the task at once."""


class ConvosoInputError(ConvosoPermanentError, ValueError):
    """A bad request parameter or connection setting, caught before any network call."""


class ConvosoAPIError(ConvosoPermanentError):
    """The API answered ``success: false``; keeps the code and text it sent."""

    def __init__(self, message: str, *, error_code: int | str | None = None, text: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.text = text


class ConvosoAuthError(ConvosoAPIError):
    """The token is invalid (code 5001, HTTP 401) or lacks the API section asked for (HTTP 403)."""


class ConvosoInvalidFilterError(ConvosoAPIError):
    """A filter named an ID the account does not have; each endpoint maps its own codes to the
    parameter (agent performance: 6026, 6041, 6042, 6006, 6050; call logs: 6002, 6004, 6006, 6030)."""

    def __init__(
        self,
        message: str,
        *,
        error_code: int | str | None = None,
        text: str | None = None,
        parameter: str | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(message, error_code=error_code, text=text)
        self.parameter = parameter
        self.value = value


class ConvosoOffsetError(ConvosoAPIError):
    """Code 7231 "Invalid offset value": a page past the endpoint's offset cap (a window with
    more rows than one filter set can reach)."""


class ConvosoValidationError(ConvosoAPIError):
    """The API rejected a date (``Invalid date format``)."""


class ConvosoResponseError(ConvosoPermanentError):
    """A 2xx answer whose body is not the JSON the endpoint sends."""


class ConvosoDataQualityError(ConvosoPermanentError):
    """Records break a data-quality rule with ``quality_checks="fail"``; nothing was written.

    ``report`` is the checks' summary (the ``quality`` member a ``warn`` run returns).
    """

    def __init__(self, message: str, *, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report or {}


class ConvosoTransientError(ConvosoError):
    """A failure that may heal (429, 5xx, timeouts, resets).

    Raised by the hook once its retries are exhausted; Airflow may then retry the task.
    ``retry_after`` carries a server-requested wait in seconds, when one was sent.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConvosoDownloadError(ConvosoError):
    """More downloads failed than the task allows (``max_failed``); not permanent: a retry
    downloads only what is still missing."""


class ConvosoTaskStopped(ConvosoError):
    """The task was told to stop while it ran (SIGTERM); not permanent, so its retries run it again."""


def redact(error: BaseException, secret: str) -> BaseException:
    """Replace ``secret`` in ``error``'s message and text attributes with ``***``, in place.

    A server that echoes the request (an error ``text``, an HTML error page, a firewall
    page) would otherwise carry the token into an exception; its URL-encoded and
    JSON-escaped spellings are replaced too.

    :param error: the error to clean.
    :param secret: the token.
    :return: the same error.
    """
    if not secret:
        return error
    from urllib.parse import quote, quote_plus

    forms = sorted(
        {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}, key=len, reverse=True
    )

    def clean(value: object) -> object:
        if not isinstance(value, str):
            return value
        for form in forms:
            value = value.replace(form, "***")
        return value

    error.args = tuple(clean(arg) for arg in error.args)
    for name in ("text", "value"):
        if isinstance(getattr(error, name, None), str):
            setattr(error, name, clean(getattr(error, name)))
    return error


__all__ = [
    "ConvosoAPIError",
    "ConvosoAuthError",
    "ConvosoDataQualityError",
    "ConvosoError",
    "ConvosoInputError",
    "ConvosoInvalidFilterError",
    "ConvosoOffsetError",
    "ConvosoPermanentError",
    "ConvosoResponseError",
    "ConvosoTaskStopped",
    "ConvosoTransientError",
    "ConvosoValidationError",
    "redact",
]
