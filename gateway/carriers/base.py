"""The carrier port: where SMS go out, and how receipts and inbound SMS come back."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """A message as a carrier takes it: already segmented."""

    hash: str
    sender: str
    recipient: str
    encoding: str
    parts: list[str]
    flash: bool = False


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The carrier's reference for an accepted message, or why it refused it."""

    carrier_ref: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """A carrier's report on a message it accepted (`REMOTE_QUEUED`, `RECEIVED`, `FAILED`,
    `EXPIRED`)."""

    carrier_ref: str
    status: str
    at: datetime
    error: str = ""


@dataclass(frozen=True, slots=True)
class InboundSms:
    sender: str
    recipient: str
    text: str
    at: datetime


class CarrierEvents(Protocol):
    """What the gateway gives a connector to report back with."""

    async def receipt(self, receipt: DeliveryReceipt) -> None: ...

    async def inbound(self, sms: InboundSms) -> str | None:
        """Store an inbound SMS; answers its hash, or None when no account takes it."""
        ...

    async def awaiting_receipts(self, carrier_ref_prefix: str) -> list[tuple[str, str]]:
        """(carrier_ref, recipient) of accepted messages with no final receipt yet: for a
        connector that must report on them again after a restart."""
        ...


class CarrierConnector(Protocol):
    name: str

    async def start(self, events: CarrierEvents) -> None: ...

    async def submit(self, sms: OutboundSms) -> SubmitResult: ...

    async def close(self) -> None: ...
