"""Numbers from the environment: a wrong value stops start-up with the variable's name, blank means the default."""

from collections.abc import Callable

import pytest

from bot.env import env_int, env_number
from bot.errors import ConfigError


def test_blank_or_unset_gives_the_default_and_a_value_is_read() -> None:
    assert env_int({}, "N", default=3) == 3 and env_int({"N": "  "}, "N", default=3) == 3
    assert env_int({"N": " 7 "}, "N", default=3, minimum=1) == 7
    assert env_number({"X": "0.5"}, "X", default=1.0) == 0.5 and env_number({"X": "0"}, "X", default=1.0) == 0


@pytest.mark.parametrize(("read", "message"), [
    (lambda: env_int({"N": "two"}, "N", default=1), "N must be an integer, got 'two'"),
    (lambda: env_int({"N": "0"}, "N", default=1, minimum=1), "N must be at least 1, got 0"),
    (lambda: env_number({"X": "1m"}, "X", default=1.0), "X must be a number, got '1m'"),
    (lambda: env_number({"X": "-1"}, "X", default=1.0), "X must be at least 0, got '-1'"),
    (lambda: env_number({"X": "0"}, "X", default=1.0, positive=True), "X must be positive, got '0'"),
])
def test_a_wrong_value_names_the_variable(read: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        read()
    assert str(refused.value) == message
