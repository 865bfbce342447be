"""The gateway's exception tree: each class fixes its JSON-RPC code and message pattern (API.md)."""

from typing import Any

INVALID_PARAMS_CODE = -32602


class GatewayError(Exception):
    """A domain error that the RPC layer turns into a JSON-RPC error answer."""

    code: int = -32603
    name: str = "INTERNAL_ERROR"

    def __init__(self, prop: str | None = None, reason: str = "") -> None:
        self.prop = prop
        self.reason = reason
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.name} [{self.prop}]" if self.prop else self.name

    @property
    def data(self) -> dict[str, Any]:
        """Details for humans; never the caller's input, so unknown and foreign ids look alike."""
        data: dict[str, Any] = {"reason": self.reason}
        if self.prop:
            data["property"] = self.prop
        return data


class MissingProperty(GatewayError):
    code = INVALID_PARAMS_CODE
    name = "MISSING_PROPERTY"


class PropertyTypeError(GatewayError):
    code = INVALID_PARAMS_CODE
    name = "PROPERTY_TYPE_ERROR"


class PropertyValueError(GatewayError):
    code = INVALID_PARAMS_CODE
    name = "PROPERTY_VALUE_ERROR"


class InvalidParamFormat(GatewayError):
    code = INVALID_PARAMS_CODE
    name = "INVALID_PARAM_FORMAT"


class FeatureNotAllowed(GatewayError):
    code = 100
    name = "FEATURE_NOT_ALLOWED"


class QuotaExceeded(GatewayError):
    code = 110
    name = "QUOTA_EXCEEDED"

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(None, "rate limit reached")

    @property
    def data(self) -> dict[str, Any]:
        return {"reason": self.reason, "retry_after": self.retry_after_s}


class RoutingError(GatewayError):
    code = 1000
    name = "SMS_ROUTING_ERROR"


class NotFound(PropertyValueError):
    """An id that does not exist or belongs to another account: both answer the same."""

    def __init__(self, prop: str = "id") -> None:
        super().__init__(prop, "no such object")


class DuplicateLogin(GatewayError):
    """An account with this login already exists (raised by the CLI path, not the RPC API)."""

    name = "DUPLICATE_LOGIN"


class StoreUnavailable(GatewayError):
    """The database could not be read or written (disk full, read-only file, ...)."""
