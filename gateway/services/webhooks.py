"""Webhook events: the body API.md gives them, built once and delivered from the outbox."""

import json
import secrets
from datetime import datetime
from typing import Any

from gateway.store.base import OutboxEvent, WebhookTarget


def event_at(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. `2026-06-01T12:00:00.000Z`."""
    return moment.isoformat("T", "milliseconds").replace("+00:00", "Z")


def new_event(
    account_id: int,
    target: WebhookTarget,
    event_type: str,
    data: dict[str, Any],
    *,
    hook_hash: str | None,
    now: datetime,
    ordering_key: str | None = None,
) -> OutboxEvent:
    """An event with a fresh id; its body bytes are fixed here and signed as they are."""
    event_id = secrets.token_hex(16)
    body = {
        "type": event_type,
        "event_id": event_id,
        "event_at": event_at(now),
        "hook_hash": hook_hash,
        "data": data,
    }
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return OutboxEvent(event_id, account_id, target, encoded, now, ordering_key)
