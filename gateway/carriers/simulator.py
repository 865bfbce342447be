"""The embedded carrier: accepts submits and reports back like a carrier, with test numbers.

Reserved destinations (last four digits): 0001 ends FAILED, 0002 ends EXPIRED, 0003 is refused
at submit, 0004 never gets a receipt (its validity runs out in the gateway). Every other
destination is delivered: REMOTE_QUEUED, then RECEIVED.
"""

import asyncio
import hmac
import json
import logging
import re

from aiohttp import web

from gateway.carriers.base import (
    CarrierEvents,
    DeliveryReceipt,
    InboundSms,
    OutboundSms,
    SubmitResult,
)
from gateway.clock import Clock
from gateway.config import SimulatorSettings
from gateway.encoding import has_lone_surrogate

log = logging.getLogger(__name__)

FINAL_BY_SUFFIX = {
    "0001": ("FAILED", "rejected by the destination network"),
    "0002": ("EXPIRED", "not delivered within the carrier's validity period"),
}
REFUSED_SUFFIX = "0003"
_REF_PREFIX = "sim-"
SILENT_SUFFIX = "0004"
_NUMBER = re.compile(r"\+?[0-9]{3,15}")
_SENDER = re.compile(r"\+?[0-9]{3,15}|(?=.*[A-Za-z])[A-Za-z0-9 _-]{1,11}")


class SimulatorConnector:
    name = "simulator"

    def __init__(
        self, settings: SimulatorSettings, clock: Clock, *, body_read_timeout_s: float
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._body_read_timeout_s = body_read_timeout_s
        self._events: CarrierEvents | None = None
        self._reports: set[asyncio.Task[None]] = set()

    async def start(self, events: CarrierEvents) -> None:
        """Take the events to report with; receipts a stopped process still owed (messages it
        accepted, not yet finally reported on) are sent again, as a carrier keeps its DLRs for
        a client that reconnects."""
        self._events = events
        owed = [
            (carrier_ref, recipient[-4:])
            for carrier_ref, recipient in await events.awaiting_receipts(_REF_PREFIX)
            if recipient[-4:] != SILENT_SUFFIX
        ]
        if owed:
            self._track(asyncio.create_task(self._report(owed), name="simulator-owed-receipts"))

    async def submit(self, sms: OutboundSms) -> SubmitResult:
        suffix = sms.recipient[-4:]
        if suffix == REFUSED_SUFFIX:
            return SubmitResult(error="refused by the carrier: destination barred")
        carrier_ref = f"{_REF_PREFIX}{sms.hash}"
        if suffix != SILENT_SUFFIX:
            self._track(
                asyncio.create_task(self._report([(carrier_ref, suffix)]), name=carrier_ref)
            )
        return SubmitResult(carrier_ref=carrier_ref)

    def _track(self, task: asyncio.Task[None]) -> None:
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _report(self, messages: list[tuple[str, str]]) -> None:
        """REMOTE_QUEUED, then the final receipt, for each (carrier_ref, destination suffix);
        a receipt the message is already past changes nothing."""
        assert self._events is not None  # started before any submit
        events = self._events
        await asyncio.sleep(self._settings.remote_queued_delay_s)
        # Together, so that the writer commits many receipts a round (thousands may be owed).
        await asyncio.gather(
            *(
                events.receipt(DeliveryReceipt(ref, "REMOTE_QUEUED", self._clock.now()))
                for ref, _ in messages
            )
        )
        await asyncio.sleep(self._settings.final_receipt_delay_s)
        await asyncio.gather(
            *(events.receipt(self._final_receipt(ref, suffix)) for ref, suffix in messages)
        )

    def _final_receipt(self, carrier_ref: str, suffix: str) -> DeliveryReceipt:
        status, error = FINAL_BY_SUFFIX.get(suffix, ("RECEIVED", ""))
        return DeliveryReceipt(carrier_ref, status, self._clock.now(), error)

    async def close(self) -> None:
        # Receipts still to come are owed to the next start, which sends them.
        for task in self._reports:
            task.cancel()
        await asyncio.gather(*self._reports, return_exceptions=True)

    async def handle_mo(self, request: web.Request) -> web.Response:
        """`POST /carrier/simulator/mo` {from, to, text}: an inbound SMS, as a carrier hands it."""
        secret = self._settings.mo_secret
        given = request.headers.get("Authorization", "")
        # surrogateescape: header bytes that are not UTF-8 compare as the bytes they were.
        expected = f"Bearer {secret}".encode()
        if not secret or not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), expected
        ):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="simulator"'})
        try:
            async with asyncio.timeout(self._body_read_timeout_s):
                raw = await request.read()
        except TimeoutError:
            return web.json_response({"error": "request body not received in time"}, status=408)
        except web.RequestPayloadError:
            return web.json_response({"error": "the body could not be decoded"}, status=400)
        try:
            body = json.loads(raw)
            sender, recipient, text = body["from"], body["to"], body["text"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return web.json_response({"error": "expected JSON {from, to, text}"}, status=400)
        if not (
            isinstance(sender, str)
            and isinstance(recipient, str)
            and isinstance(text, str)
            and _SENDER.fullmatch(sender)
            and _NUMBER.fullmatch(recipient)
            and 0 < len(text) <= 3200
            and not has_lone_surrogate(text)
        ):
            return web.json_response({"error": "from, to or text is not valid"}, status=400)
        assert self._events is not None
        sms_hash = await self._events.inbound(
            InboundSms(sender, recipient, text, self._clock.now())
        )
        if sms_hash is None:
            log.info("inbound SMS refused: no account takes this destination")
            return web.json_response({"error": "no account takes this destination"}, status=404)
        return web.json_response({"hash": sms_hash}, status=202)
