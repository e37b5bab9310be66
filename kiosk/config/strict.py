"""Strict parsing of the configuration's values: a value of the wrong type is refused.

`StrictModel` is the base of every model of `kiosk.toml`: unknown keys are refused, nothing
is converted (``"1"``, ``1.0`` or ``true`` is no integer, ``"yes"`` no boolean), except an
integer where a number is expected (``target_wait_min = 10``); infinity and NaN are refused.
TOML has arrays, not tuples: `TOML_ARRAY` lets a tuple field take one. Pydantic cannot make a
``Literal`` of integers strict: `INT_ONLY` refuses ``80.0`` or ``true`` for ``Literal[58, 80]``.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError


class StrictModel(BaseModel):
    """A frozen model of one section of `kiosk.toml`, validated strictly."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _array_as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _int_only(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


TOML_ARRAY = BeforeValidator(_array_as_tuple)
INT_ONLY = BeforeValidator(_int_only)
