"""Pydantic models of every method's params, in wire order, with API.md's formats."""

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from gateway.services.messaging import ALPHANUMERIC_SENDER
from gateway.services.numbering import SHORTCODE_SHAPE, is_e164

MAX_BODY_CHARS = 3200
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
HASH_PATTERN = r"^[A-Z0-9]{8}$"


class _Params(BaseModel):
    # strict: JSON types are checked as sent ("5" is not 5); unknown properties are errors.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=False)

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        # JSON may escape a lone UTF-16 surrogate ("\ud800"); it is not text and cannot be
        # stored, counted or sent.
        if isinstance(value, str) and _LONE_SURROGATE.search(value):
            raise _format_error("must be valid Unicode text (no unpaired surrogate)")
        return value


def _format_error(reason: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_format", reason)


def _phone_number(value: str) -> str:
    if not is_e164(value):
        raise _format_error("must be a valid E.164 phone number such as +33612345678")
    return value


def _sender(value: str) -> str:
    if value == "" or ALPHANUMERIC_SENDER.fullmatch(value):
        return value
    if is_e164(value) or SHORTCODE_SHAPE.fullmatch(value):
        return value
    raise _format_error(
        "must be empty, 1 to 11 of [A-Za-z0-9 _-] with a letter, an E.164 number or a shortcode"
    )


def _endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 2048:
        raise _format_error("must be an absolute http or https URL")
    return value


PhoneNumber = Annotated[str, AfterValidator(_phone_number)]
SmsSender = Annotated[str, AfterValidator(_sender)]
Body = Annotated[str, Field(min_length=1, max_length=MAX_BODY_CHARS)]
Endpoint = Annotated[str, AfterValidator(_endpoint)]
ObjectHash = Annotated[str, Field(pattern=HASH_PATTERN)]


class WebhookOptions(_Params):
    hmac_secret: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    hmac_algo: Literal["SHA256", "SHA1", "SHA512", "MD5"] | None = None


class Webhook(_Params):
    endpoint: Endpoint
    options: WebhookOptions | None = None


class SmsOptions(_Params):
    force_encoding: Literal["GSM", "UNICODE"] | None = None
    nature: Literal["ALERTING", "MARKETING"] | None = None
    user_data: Annotated[str, Field(max_length=255)] | None = None
    webhook: Webhook | None = None
    flash_message: bool | None = None
    idempotency_key: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    push_dlr_enabled: bool | None = None
    push_dlr_url: Endpoint | None = None
    push_dlr_url_auth: Annotated[str, Field(max_length=255)] | None = None


class SendParams(_Params):
    sender: SmsSender = Field(alias="from")
    to: PhoneNumber
    body: Body
    options: SmsOptions | None = None


class GetParams(_Params):
    id: str


class QuoteParams(_Params):
    to: PhoneNumber
    text: Body
    options: SmsOptions | None = None


class CountForBodyParams(_Params):
    body: Body


class NoParams(_Params):
    pass


def options_as_given(raw: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The options object exactly as the caller sent it (stored and echoed in `SMS.options`)."""
    value = raw.get(name)
    return value if isinstance(value, dict) else None
