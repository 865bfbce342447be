"""Pydantic models of every method's params, in wire order, with API.md's formats."""

import base64
import binascii
import ipaddress
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from gateway.encoding import has_lone_surrogate
from gateway.services.messaging import ALPHANUMERIC_SENDER
from gateway.services.numbering import SHORTCODE_SHAPE, is_e164
from gateway.store.base import SortField, SortOrder

MAX_BODY_CHARS = 3200
HASH_PATTERN = r"^[A-Z0-9]{8}$"


class _Params(BaseModel):
    # strict: JSON types are checked as sent ("5" is not 5); unknown properties are errors.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, populate_by_name=False)

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        # JSON may escape a lone UTF-16 surrogate ("\ud800"); it is not text and cannot be
        # stored, counted or sent.
        if isinstance(value, str):
            _unicode_text(value)
        return value


def _unicode_text(value: str) -> str:
    if has_lone_surrogate(value):
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


def _number_or_shortcode(value: str) -> str:
    # An outbound SMS goes to an E.164 number; an inbound one may be sent to a shortcode.
    if is_e164(value) or SHORTCODE_SHAPE.fullmatch(value):
        return value
    raise _format_error("must be an E.164 phone number or a shortcode")


# A DNS label once IDNA-encoded, with `_`, which some real host names carry.
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_DOTTED_NUMBERS = re.compile(r"[0-9.]+")


def _addressable_host(host: str) -> bool:
    """An IP address, or a host name that the webhook sender can encode and look up (aiohttp
    encodes with the same IDNA codec; a name it cannot encode fails every delivery)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if _DOTTED_NUMBERS.fullmatch(host):
        return False  # shaped like IPv4 but not an address
    try:
        encoded = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = encoded.removesuffix(".").split(".")
    return len(encoded) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


# Spaces and control characters have no place in a URL; urlsplit and aiohttp would silently
# drop some of them (CR, LF, tab), so the URL used would not be the one kept.
_NOT_IN_URLS = re.compile(r"[\x00-\x20\x7f]")


def _endpoint(value: str) -> str:
    try:
        parts = urlsplit(value)
        port = parts.port  # out of 0-65535 raises
    except ValueError:
        raise _format_error("must be an absolute http or https URL") from None
    host = parts.hostname or ""
    if (
        parts.scheme not in ("http", "https")
        or len(value) > 2048
        or _NOT_IN_URLS.search(value)
        or port == 0
        or not _addressable_host(host)
        # Brackets hold an IPv6 address, nothing else ("[v1.x]" is no host aiohttp can reach).
        or ("[" in parts.netloc and ":" not in host)
    ):
        raise _format_error("must be an absolute http or https URL")
    return value


# RFC 3339 allows a lowercase `t` and `z` as well.
_WIRE_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([ Tt])\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|z|[+-]\d{2}:\d{2})?"
)


def _parse_datetime(value: str, *, end_of_second: bool) -> datetime:
    """API.md `datetime` (`YYYY-MM-DD HH:MM:SS`, UTC) or RFC 3339, as an aware UTC datetime.

    An upper bound given to the second is inclusive of that whole second.
    """
    match = _WIRE_DATETIME.fullmatch(value)
    # A space goes with API.md's UTC form (no offset); `T` with RFC 3339's (an offset).
    if match is None or (match.group(1) == " ") == (match.group(3) is not None):
        raise _format_error("must be YYYY-MM-DD HH:MM:SS (UTC) or RFC 3339")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise _format_error("not a calendar date and time") from None
    try:
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError(
            "invalid_value", "must be between 0001-01-01 and 9999-12-31 in UTC"
        ) from None
    if end_of_second and match.group(2) is None:
        parsed += timedelta(milliseconds=999)
    return parsed


PhoneNumber = Annotated[str, AfterValidator(_phone_number)]
SmsSender = Annotated[str, AfterValidator(_sender)]
Body = Annotated[str, Field(min_length=1, max_length=MAX_BODY_CHARS)]
Endpoint = Annotated[str, AfterValidator(_endpoint)]
ObjectHash = Annotated[str, Field(pattern=HASH_PATTERN)]


def _datetime_from(value: Any) -> Any:
    return _parse_datetime(value, end_of_second=False) if isinstance(value, str) else value


def _datetime_to(value: Any) -> Any:
    return _parse_datetime(value, end_of_second=True) if isinstance(value, str) else value


# A strict datetime field refuses anything but the string formats parsed before it.
_WIRE_DATETIME_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "description": "YYYY-MM-DD HH:MM:SS in UTC, or RFC 3339 with an offset",
        "examples": ["2026-06-01 12:00:00", "2026-06-01T14:00:00+02:00"],
    }
)
DatetimeFrom = Annotated[datetime, BeforeValidator(_datetime_from), _WIRE_DATETIME_SCHEMA]
DatetimeTo = Annotated[datetime, BeforeValidator(_datetime_to), _WIRE_DATETIME_SCHEMA]


def _search_text(value: str) -> str:
    # SQLite's LIKE reads a pattern up to its first NUL: "a\0b" would match every text with "a".
    if "\x00" in value:
        raise _format_error("must not contain U+0000")
    return value


def _hmac_secret(value: str) -> str:
    # Standard Webhooks secrets are `whsec_` and the base64 of the key, decoded as their
    # libraries (and the gateway's signer) do it: one that yields no key could never sign.
    if value.startswith("whsec_"):
        try:
            key = base64.b64decode(value.removeprefix("whsec_") + "==")
        except binascii.Error:
            key = b""
        if not key:
            raise PydanticCustomError(
                "invalid_value", "a whsec_ secret must continue with the base64 of its key"
            )
    return value


class WebhookOptions(_Params):
    hmac_secret: (
        Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_hmac_secret)] | None
    ) = None
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
    validity_s: Annotated[int, Field(ge=60, le=3 * 24 * 3600)] | None = None


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


_MaybeDatetime = TypeVar("_MaybeDatetime", datetime, datetime | None)


def _not_before(value: _MaybeDatetime, earlier: datetime | None, name: str) -> _MaybeDatetime:
    """A range's end, refused when it comes before the range's start."""
    if value is not None and earlier is not None and earlier > value:
        raise PydanticCustomError("invalid_value", f"must not be before {name}")
    return value


STATUSES = frozenset(
    {"CREATED", "PENDING", "SENT", "REMOTE_QUEUED", "RECEIVED", "ERROR", "FAILED", "EXPIRED"}
)
SORT_FIELDS = frozenset(field.value for field in SortField)


def _statuses(value: Any) -> tuple[str, ...]:
    """One status or a list of statuses, as a tuple without repeats."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise PydanticCustomError("status_type", "must be a status or a list of statuses")
    if not items:
        raise PydanticCustomError("invalid_value", "must name at least one status")
    if not set(items) <= STATUSES:
        raise PydanticCustomError("invalid_value", f"must be among {', '.join(sorted(STATUSES))}")
    return tuple(dict.fromkeys(items))


def _split_sort(value: str, fields: frozenset[str]) -> tuple[str, bool]:
    """`field:asc|desc` as (field, descending); a bare direction sorts by date_creation, a
    bare field ascending."""
    field, _, direction = value.partition(":")
    if not direction and field in ("asc", "desc"):
        field, direction = "", field
    field = field or "date_creation"
    if field not in fields or direction not in ("", "asc", "desc"):
        raise PydanticCustomError(
            "invalid_value",
            f"must be field:asc or field:desc, field among {', '.join(sorted(fields))}",
        )
    return field, direction == "desc"


def parse_sort(value: str) -> SortOrder:
    field, descending = _split_sort(value, SORT_FIELDS)
    return SortOrder(SortField(field), descending=descending)


NUMBER_SORT_FIELDS = frozenset({"date_creation", "number"})


def parse_number_sort(value: str) -> tuple[bool, bool]:
    """(by number, descending) of a numbers.search sort."""
    field, descending = _split_sort(value, NUMBER_SORT_FIELDS)
    return field == "number", descending


def _sort(value: str) -> str:
    parse_sort(value)
    return value


Statuses = Annotated[
    tuple[str, ...],
    PlainValidator(_statuses),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "enum": sorted(STATUSES)},
                {"type": "array", "items": {"type": "string", "enum": sorted(STATUSES)}},
            ]
        }
    ),
]


class SearchFilters(_Params):
    type: Literal["IN", "OUT"] | None = None
    hash: ObjectHash | None = None
    sender: SmsSender | None = Field(None, alias="from")
    to: Annotated[str, AfterValidator(_number_or_shortcode)] | None = None
    text: (
        Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_search_text)] | None
    ) = None
    nature: Literal["ALERTING", "MARKETING"] | None = None
    status: Statuses | None = None
    user_data: Annotated[str, Field(max_length=255)] | None = None
    date_from: DatetimeFrom | None = None
    date_to: DatetimeTo | None = None

    @field_validator("date_to")
    @classmethod
    def _after_date_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return _not_before(value, info.data.get("date_from"), "date_from")


class _PageOptions(_Params):
    offset: Annotated[int, Field(ge=0)] = 0
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    cursor: Annotated[str, Field(min_length=1, max_length=512)] | None = None


class SearchOptions(_PageOptions):
    sort: Annotated[str, AfterValidator(_sort)] | None = None


class SearchParams(_Params):
    filters: SearchFilters | None = None
    options: SearchOptions | None = None


class GetListParams(_Params):
    type: Literal["IN", "OUT"]
    date_from: DatetimeFrom = Field(alias="from")
    date_to: DatetimeTo = Field(alias="to")

    @field_validator("date_to")
    @classmethod
    def _after_from(cls, value: datetime, info: ValidationInfo) -> datetime:
        return _not_before(value, info.data.get("date_from"), "from")


class ExportParams(_Params):
    filters: SearchFilters | None = None
    webhook: Webhook | None = None


class JobIdParams(_Params):
    id: str


class SubscribeParams(_Params):
    type: Literal["sms.mt.status_update", "sms.mo", "job.status_update"]
    endpoint: Endpoint
    options: WebhookOptions | None = None


class SubscriptionHashParams(_Params):
    hash: str


def _owned_number(value: str) -> str:
    if is_e164(value) or SHORTCODE_SHAPE.fullmatch(value):
        return value
    raise _format_error("must be an E.164 phone number or a shortcode")


def _number_prefix(value: str) -> str:
    if re.fullmatch(r"\+?[0-9]{1,15}", value):
        return value
    raise _format_error("must be the start of a number: an optional + and digits")


OwnedNumberParam = Annotated[str, AfterValidator(_owned_number)]


class NumberOptions(_Params):
    sms_enabled: bool | None = None
    label: Annotated[str, Field(max_length=100)] | None = None


class NumberCreateParams(_Params):
    number: OwnedNumberParam
    options: NumberOptions | None = None


class NumberParams(_Params):
    number: str


class ControlSmsParams(_Params):
    number: str
    action: Literal["enable", "disable"]


class NumberFiltersParam(_Params):
    sms_enabled: bool | None = None
    prefix: Annotated[str, AfterValidator(_number_prefix)] | None = None
    date_from: DatetimeFrom | None = None
    date_to: DatetimeTo | None = None

    @field_validator("date_to")
    @classmethod
    def _after_date_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return _not_before(value, info.data.get("date_from"), "date_from")


def _number_sort(value: str) -> str:
    parse_number_sort(value)
    return value


class NumberSearchOptions(_PageOptions):
    sort: Annotated[str, AfterValidator(_number_sort)] | None = None


class NumberCountParams(_Params):
    filters: NumberFiltersParam | None = None


class NumberSearchParams(_Params):
    filters: NumberFiltersParam | None = None
    options: NumberSearchOptions | None = None


class SendBatchParams(_Params):
    sender: SmsSender = Field(alias="from")
    # Each recipient is refused on its own in the answer if it is no number, but it must be text.
    to_list: Annotated[
        list[Annotated[str, AfterValidator(_unicode_text)]], Field(min_length=1, max_length=1000)
    ]
    body: Body
    options: SmsOptions | None = None
