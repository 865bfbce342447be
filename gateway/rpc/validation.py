"""Turns pydantic validation errors into API.md's `CODE [property]` errors."""

from pydantic import ValidationError

from gateway.errors import (
    GatewayError,
    InvalidParamFormat,
    MissingProperty,
    PropertyTypeError,
    PropertyValueError,
)

_FORMAT_ERRORS = frozenset(
    {"invalid_format", "string_too_long", "string_too_short", "string_pattern_mismatch"}
)
_TYPE_ERRORS = frozenset(
    {"model_type", "model_attributes_type", "dict_type", "list_type", "is_instance_of"}
)


def gateway_error(exc: ValidationError) -> GatewayError:
    """The first error in wire order; never echoes the input, only the property path."""
    error = exc.errors(include_url=False)[0]
    prop = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    reason = error["msg"]
    if kind == "missing" or (error.get("input", 0) is None):
        return MissingProperty(prop, "required")
    if kind == "extra_forbidden":
        return PropertyValueError(prop, "unknown property")
    if kind in _FORMAT_ERRORS:
        return InvalidParamFormat(prop, reason)
    if kind.endswith("_type") or kind in _TYPE_ERRORS:
        return PropertyTypeError(prop, reason)
    return PropertyValueError(prop, reason)
