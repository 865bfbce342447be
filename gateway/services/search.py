"""Finding messages: filters clamped to the search window, exact totals, offset or keyset pages."""

import base64
import binascii
import hashlib
import json
from dataclasses import astuple, dataclass, field
from datetime import datetime, timedelta

from gateway.clock import Clock
from gateway.config import SearchSettings
from gateway.errors import PropertyValueError
from gateway.store.base import Keyset, Message, MessageStore, SearchCriteria, SortField, SortOrder
from gateway.store.epoch_ms import to_ms

# Up to this many matches, reading them all through a filter's index and sorting them beats
# walking the whole window in sort order.
FEW_MATCHES = 10_000


@dataclass(frozen=True, slots=True)
class MessageFilters:
    """`SMS.SearchFilters` as the caller gave them (before the window clamp)."""

    direction: str | None = None
    hash: str | None = None
    sender: str | None = None
    recipient: str | None = None
    text: str | None = None
    nature: str | None = None
    statuses: tuple[str, ...] = ()
    user_data: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int = 0
    limit: int = 100
    order: SortOrder = field(default_factory=SortOrder)
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    offset: int
    limit: int
    has_more: bool
    next_cursor: str | None
    messages: list[Message]


def _sort_value(message: Message, field: SortField) -> int | str:
    if field is SortField.DATE_CREATION:
        return to_ms(message.created_at)
    if field is SortField.DATE_UPDATE:
        return to_ms(message.updated_at)
    if field is SortField.STATUS:
        return message.status
    return message.parts


def _fingerprint(filters: MessageFilters, order: SortOrder) -> str:
    """Binds a cursor to the filters and sort it came from."""
    canonical = repr((astuple(filters), order.field.value, order.descending)).encode()
    return hashlib.sha256(canonical).hexdigest()[:16]


def encode_cursor(fingerprint: str, keyset: Keyset) -> str:
    raw = json.dumps([fingerprint, keyset.value, keyset.row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_SQLITE_INTEGERS = range(-(2**63), 2**63)


def _stored_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in _SQLITE_INTEGERS


def decode_cursor(cursor: str, fingerprint: str, value_type: type[int] | type[str]) -> Keyset:
    """The keyset of a cursor this API made for these filters and this sort, whose sort value
    is a `value_type` (an edited cursor is refused, not passed on to the store)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        bound_to, value, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise PropertyValueError("options.cursor", "not a cursor of this API") from None
    if bound_to != fingerprint:
        raise PropertyValueError("options.cursor", "comes from other filters or another sort")
    value_fits = _stored_integer(value) if value_type is int else isinstance(value, str)
    if not (value_fits and _stored_integer(row_id)):
        raise PropertyValueError("options.cursor", "not a cursor of this API")
    return Keyset(value, row_id)


class SearchService:
    def __init__(self, store: MessageStore, settings: SearchSettings, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def criteria(self, filters: MessageFilters) -> SearchCriteria:
        """The store's criteria: `date_from` moved up to the start of the search window."""
        window_start = self._clock.now() - timedelta(days=self._settings.window_days)
        created_from = max(filters.date_from or window_start, window_start)
        return SearchCriteria(
            created_from=created_from,
            created_to=filters.date_to,
            direction=filters.direction,
            hash=filters.hash,
            sender=filters.sender,
            recipient=filters.recipient,
            text=filters.text,
            nature=filters.nature,
            statuses=filters.statuses,
            user_data=filters.user_data,
        )

    async def search(
        self, account_id: int, filters: MessageFilters, request: PageRequest
    ) -> SearchPage:
        if request.cursor is not None and request.offset:
            raise PropertyValueError("options.cursor", "a cursor does not combine with offset")
        fingerprint = _fingerprint(filters, request.order)
        value_type = str if request.order.field is SortField.STATUS else int
        after = decode_cursor(request.cursor, fingerprint, value_type) if request.cursor else None
        criteria = self.criteria(filters)
        # The exact total first: it is cheap through the filters' indexes, and how small it is
        # tells the store how to read the page.
        total = await self._store.count_messages(account_id, criteria)
        # Past the last match the page is empty, however far: no read (and no offset beyond
        # what the store's integers hold).
        rows = (
            []
            if request.offset >= total
            else await self._store.search_messages(
                account_id,
                criteria,
                request.order,
                after=after,
                offset=request.offset,
                limit=request.limit + 1,  # one row more says whether another page follows
                few_matches=total <= FEW_MATCHES,
            )
        )
        has_more = len(rows) > request.limit
        page = rows[: request.limit]
        next_cursor = None
        if has_more:
            last = page[-1]
            keyset = Keyset(_sort_value(last, request.order.field), last.row_id)
            next_cursor = encode_cursor(fingerprint, keyset)
        return SearchPage(total, request.offset, request.limit, has_more, next_cursor, page)

    async def list_between(
        self, account_id: int, direction: str, date_from: datetime, date_to: datetime
    ) -> list[Message]:
        """sms.get_list: every message of one direction in a range, oldest first."""
        criteria = self.criteria(
            MessageFilters(direction=direction, date_from=date_from, date_to=date_to)
        )
        most = self._settings.get_list_max_rows
        rows = await self._store.search_messages(
            account_id, criteria, SortOrder(), after=None, offset=0, limit=most + 1
        )
        if len(rows) > most:
            raise PropertyValueError(
                "to", f"more than {most} messages in this range: narrow it or use sms.search"
            )
        return rows
