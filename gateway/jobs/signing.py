"""Webhook signatures (pure): CALLR's X-CALLR-HmacSignature and the Standard Webhooks header."""

import base64
import hashlib
import hmac

HMAC_ALGORITHMS = {
    "SHA256": hashlib.sha256,
    "SHA1": hashlib.sha1,
    "SHA512": hashlib.sha512,
    "MD5": hashlib.md5,
}
_STANDARD_SECRET_PREFIX = "whsec_"


def callr_signature(secret: str, algorithm: str, body: bytes) -> str:
    """base64(HMAC(algorithm, UTF-8 secret, exact body bytes)), as CALLR documents it."""
    digest = hmac.new(secret.encode(), body, HMAC_ALGORITHMS[algorithm]).digest()
    return base64.b64encode(digest).decode()


def standard_webhook_key(secret: str) -> bytes:
    """Standard Webhooks libraries take `whsec_<base64>`; any other secret is used as UTF-8."""
    if secret.startswith(_STANDARD_SECRET_PREFIX):
        # As the Standard Webhooks libraries decode it: padding optional, stray bytes ignored.
        return base64.b64decode(secret.removeprefix(_STANDARD_SECRET_PREFIX) + "==")
    return secret.encode()


def standard_webhook_signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64(HMAC-SHA256(key, `{id}.{timestamp}.{body}`)), the `webhook-signature`."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(
    event_id: str, body: bytes, timestamp: int, secret: str | None, algorithm: str
) -> dict[str, str]:
    """Every header API.md gives a webhook POST; signatures only when there is a secret."""
    headers = {"Content-Type": "application/json", "X-CALLR-EventId": event_id}
    if secret:
        headers["X-CALLR-HmacSignature"] = callr_signature(secret, algorithm, body)
        headers["webhook-id"] = event_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = standard_webhook_signature(secret, event_id, timestamp, body)
    return headers
