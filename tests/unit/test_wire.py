"""The hand-built wire forms of messages are exactly what their pydantic models describe."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from gateway.services.search import SearchPage
from gateway.services.wire import SearchResults, SmsResult
from gateway.store.base import Message, StatusChange

_MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
_STATUSES = st.sampled_from(["CREATED", "PENDING", "SENT", "RECEIVED", "ERROR"])


@st.composite
def messages(draw: st.DrawFn) -> Message:
    created = draw(_MOMENTS)
    history = tuple(
        StatusChange(draw(_STATUSES), draw(_STATUSES), created + timedelta(milliseconds=i))
        for i in range(draw(st.integers(0, 4)))
    )
    return Message(
        account_id=1,
        direction=draw(st.sampled_from(["OUT", "IN"])),
        sender=draw(st.text(max_size=11)),
        recipient=draw(st.text(max_size=16)),
        text=draw(st.text(max_size=200)),
        options=draw(st.none() | st.fixed_dictionaries({"user_data": st.text(max_size=5)})),
        encoding=draw(st.sampled_from(["GSM", "UNICODE"])),
        parts=draw(st.integers(1, 10)),
        nature=draw(st.sampled_from(["ALERTING", "MARKETING"])),
        user_data=draw(st.text(max_size=20)),
        status=draw(_STATUSES),
        cost=draw(st.none() | st.decimals(0, 100, places=4).map(Decimal)),
        currency="EUR",
        country=draw(st.sampled_from([None, "FR", "GB"])),
        created_at=created,
        status_history=history,
        expires_at=draw(st.none() | _MOMENTS),
        row_id=draw(st.integers(1, 2**40)),
        hash=draw(st.text("0123456789ABCDEF", min_size=8, max_size=8)),
        status_error=draw(st.text(max_size=20)),
        updated_at=draw(_MOMENTS),
        sent_at=draw(st.none() | _MOMENTS),
        received_at=draw(st.none() | _MOMENTS),
    )


@given(messages())
def test_sms_wire_form_is_the_model_dump(message: Message) -> None:
    wire = SmsResult.wire(message)
    # Validating and dumping again changes nothing: same keys, same values, same types.
    assert SmsResult.model_validate(wire).model_dump(by_alias=True) == wire
    assert list(wire) == [field.alias or name for name, field in SmsResult.model_fields.items()]


@given(st.lists(messages(), max_size=3), st.integers(0, 10**6), st.booleans())
def test_search_wire_form_is_the_model_dump(
    found: list[Message], total: int, has_more: bool
) -> None:
    page = SearchPage(total, 0, 10, has_more, "c" if has_more else None, found)
    wire = SearchResults.wire(page)
    assert SearchResults.model_validate(wire).model_dump(by_alias=True) == wire
