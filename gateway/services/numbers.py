"""Phone numbers and shortcodes of accounts: registration, SMS switch, listing, ownership."""

import hashlib
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.errors import FeatureNotAllowed, NotFound, PropertyValueError
from gateway.services.search import decode_cursor, encode_cursor
from gateway.store.base import Keyset, NumberFilters, NumberStore, OwnedNumber
from gateway.store.epoch_ms import to_ms


@dataclass(frozen=True, slots=True)
class NumberPageRequest:
    offset: int = 0
    limit: int = 100
    by_number: bool = False
    descending: bool = False
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class NumberPage:
    total: int
    offset: int
    limit: int
    has_more: bool
    next_cursor: str | None
    numbers: list[OwnedNumber]


class NumberService:
    def __init__(self, store: NumberStore, clock: Clock, shared: frozenset[str]) -> None:
        self._store = store
        self._clock = clock
        # The gateway's own numbers (the default sender, the STOP number): every account sends
        # from them, so the replies they get belong to no single account.
        self._shared = shared

    async def create(
        self, account_id: int, number: str, sms_enabled: bool, label: str
    ) -> OwnedNumber:
        if number in self._shared:
            raise FeatureNotAllowed("number", "this number cannot be registered")
        created = await self._store.insert_number(
            account_id, number, sms_enabled, label, self._clock.now()
        )
        if created is not None:
            return created
        existing = await self._store.number(number)
        if existing is not None and existing.account_id == account_id:
            raise PropertyValueError("number", "already registered to this account")
        # Says nothing about who has it.
        raise FeatureNotAllowed("number", "this number cannot be registered")

    async def get(self, account_id: int, number: str) -> OwnedNumber:
        owned = await self._store.number(number)
        if owned is None or owned.account_id != account_id:
            raise NotFound("number")
        return owned

    async def delete(self, account_id: int, number: str) -> None:
        if not await self._store.delete_number(account_id, number):
            raise NotFound("number")

    async def control_sms(self, account_id: int, number: str, enable: bool) -> None:
        if not await self._store.set_number_sms(account_id, number, enable, self._clock.now()):
            raise NotFound("number")

    async def count(self, account_id: int, filters: NumberFilters) -> int:
        return await self._store.count_numbers(account_id, filters)

    async def search(
        self, account_id: int, filters: NumberFilters, request: NumberPageRequest
    ) -> NumberPage:
        if request.cursor is not None and request.offset:
            raise PropertyValueError("options.cursor", "a cursor does not combine with offset")
        fingerprint = hashlib.sha256(
            repr((filters, request.by_number, request.descending)).encode()
        ).hexdigest()[:16]
        value_type = str if request.by_number else int
        after = decode_cursor(request.cursor, fingerprint, value_type) if request.cursor else None
        total = await self._store.count_numbers(account_id, filters)
        # Past the last match the page is empty, however far: no read (and no offset beyond
        # what the store's integers hold).
        rows = (
            []
            if request.offset >= total
            else await self._store.search_numbers(
                account_id,
                filters,
                by_number=request.by_number,
                descending=request.descending,
                after=after,
                offset=request.offset,
                limit=request.limit + 1,
            )
        )
        has_more = len(rows) > request.limit
        page = rows[: request.limit]
        next_cursor = None
        if has_more:
            last = page[-1]
            value: int | str = last.number if request.by_number else to_ms(last.created_at)
            next_cursor = encode_cursor(fingerprint, Keyset(value, last.row_id))
        return NumberPage(total, request.offset, request.limit, has_more, next_cursor, page)

    async def sms_owner(self, number: str) -> int | None:
        """The account that receives SMS sent to this number, if it takes them."""
        owned = await self._store.number(number)
        return owned.account_id if owned is not None and owned.sms_enabled else None

    async def may_send_from(self, account_id: int, number: str) -> bool:
        owned = await self._store.number(number)
        return owned is not None and owned.account_id == account_id and owned.sms_enabled
