"""The error classes: permanent ones fail the task by definition, and every one pickles."""

from __future__ import annotations

import pickle

import pytest

from airflow_provider_convoso import exceptions
from airflow_provider_convoso.compat import AirflowFailException
from airflow_provider_convoso.exceptions import (
    ConvosoAPIError,
    ConvosoAuthError,
    ConvosoDataQualityError,
    ConvosoError,
    ConvosoInputError,
    ConvosoInvalidFilterError,
    ConvosoOffsetError,
    ConvosoPermanentError,
    ConvosoResponseError,
    ConvosoTaskStopped,
    ConvosoTransientError,
    ConvosoValidationError,
    redact,
)

EXAMPLES: list[ConvosoError] = [
    ConvosoError("base"),
    ConvosoPermanentError("permanent"),
    ConvosoInputError("bad input"),
    ConvosoAPIError("api", error_code=6031, text="Missing Agents"),
    ConvosoAuthError("auth", error_code=5001, text="Auth token is invalid"),
    ConvosoInvalidFilterError("filter", error_code=6026, text="Invalid campaign", parameter="campaign_ids", value="9"),
    ConvosoValidationError("dates", error_code=None, text="Invalid date format"),
    ConvosoResponseError("not an answer"),
    ConvosoOffsetError("offset", error_code=7231, text="Invalid offset value"),
    ConvosoDataQualityError("rules broken", report={"checked": 3, "rules": {}}),
    ConvosoTransientError("busy", retry_after=1.5),
    ConvosoTaskStopped("the task was told to stop"),
]


def test_every_class_has_an_example() -> None:
    classes = {getattr(exceptions, name) for name in exceptions.__all__ if isinstance(getattr(exceptions, name), type)}
    assert classes == {type(error) for error in EXAMPLES}


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: type(error).__name__)
def test_every_error_pickles_and_unpickles_equal(error: ConvosoError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert back.args == error.args and str(back) == str(error)
    assert vars(back) == vars(error)


@pytest.mark.parametrize("error", EXAMPLES, ids=lambda error: type(error).__name__)
def test_permanent_errors_fail_the_task_and_transient_ones_do_not(error: ConvosoError) -> None:
    assert isinstance(error, AirflowFailException) == isinstance(error, ConvosoPermanentError)
    if isinstance(error, ConvosoTransientError):
        assert not isinstance(error, AirflowFailException)  # Airflow may retry the task
    with pytest.raises(type(error)):
        raise error


def test_input_errors_are_value_errors() -> None:
    assert isinstance(ConvosoInputError("x"), ValueError)


def test_redact_replaces_every_spelling_of_the_secret() -> None:
    import json
    from urllib.parse import quote, quote_plus

    secret = 'a b/c+d&e"f'
    spellings = [secret, quote_plus(secret), quote(secret, safe=""), json.dumps(secret)[1:-1]]
    assert len(set(spellings)) == 4
    error = ConvosoAuthError("got " + " and ".join(spellings), text=f"echo {secret}")
    redact(error, secret)
    assert str(error) == "got *** and *** and *** and ***"
    assert error.text == "echo ***"
