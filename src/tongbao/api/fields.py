"""Typed request fields that keep their own error codes.

A field whose mistakes have a code of their own (``amount_invalid``, ``method_unknown``) is checked
by a validator that raises :func:`refused`; ``api/validation.py`` answers such a failure with its
code and message as given. The JSON schema still shows the field's real type and bounds, which the
validators never let a value past.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

OWN_CODE: Final = "tongbao_code"


def refused(code: str, message: str) -> PydanticCustomError:
    """A validation failure answered as ``code`` with ``message`` (a whole sentence)."""
    return PydanticCustomError(code, message, {OWN_CODE: code})


def refused_at(title: str, loc: tuple[str, ...], code: str, message: str, value: object) -> ValidationError:
    """The same, for a check of the whole body that blames one field (``loc``: its path)."""
    detail = InitErrorDetails(type=refused(code, message), loc=loc, input=value)
    return ValidationError.from_exception_data(title, [detail])


def text(max_len: int, *, required: bool = False, pattern: str | None = None, rule: str = "") -> Any:
    """A before-validator for text: absent, null and "" are all "not given"; anything else is a
    string of at most ``max_len`` characters without NUL (PostgreSQL text cannot hold one)."""
    shape = re.compile(pattern) if pattern else None

    def check(value: object, info: ValidationInfo) -> object:
        name = info.field_name or "value"
        if value is None or value == "":
            if required:
                raise refused("parameter_missing", f"{name} is required")
            return None
        if not isinstance(value, str) or len(value) > max_len or "\x00" in value:
            raise refused("parameter_invalid", f"{name} is a string of at most {max_len} characters")
        if shape is not None and not shape.fullmatch(value):
            raise refused("parameter_invalid", f"{name} is {rule}")
        return value

    return check


def no_nul(value: str, info: ValidationInfo) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: refused here, not failed in the database
        raise refused("parameter_invalid", f"{info.field_name or 'text'} must not contain NUL characters")
    return value


class StrictRequest(BaseModel):
    """A request body that takes only its own fields, and names an unknown one before any other
    mistake (it is most often a misspelling of a field that then looks missing)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _unknown_first(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in data:
                if name not in cls.model_fields:
                    raise refused_at(
                        cls.__name__, (str(name),), "parameter_unknown", f"unknown field {name!r}", data[name]
                    )
            cls.check_body(data)
        return data

    @classmethod
    def check_body(cls, data: dict[str, Any]) -> None:
        """A rule over several fields that comes before the fields' own checks; raise
        :func:`refused_at` to blame one of them."""
