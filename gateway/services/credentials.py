"""Password hashing (salted scrypt) and API-key tokens; pure functions, no I/O."""

import base64
import hashlib
import hmac
import secrets

_SCRYPT_R = 8
_SCRYPT_P = 1
_KEY_BYTES = 32
API_KEY_HEX_LENGTH = 100


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # scrypt needs about 128 * n * r bytes; leave room over OpenSSL's 32 MiB default.
    maxmem = 256 * n * r + 1024 * 1024
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


def hash_password(password: str, *, n: int) -> str:
    """A self-describing salted scrypt hash: `scrypt$n$r$p$salt$key` (base64 parts)."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, n, _SCRYPT_R, _SCRYPT_P, _KEY_BYTES)
    salt_b64, key_b64 = base64.b64encode(salt).decode(), base64.b64encode(key).decode()
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${salt_b64}${key_b64}"


def verify_password(password: str, encoded: str) -> bool:
    """Recompute the hash with the stored parameters; compare in constant time."""
    scheme, n, r, p, salt_b64, key_b64 = encoded.split("$")
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(key_b64)
    key = _scrypt(password, base64.b64decode(salt_b64), int(n), int(r), int(p), len(expected))
    return hmac.compare_digest(key, expected)


def new_api_key() -> str:
    """A 100-hex-character token, CALLR's API-key shape."""
    return secrets.token_hex(API_KEY_HEX_LENGTH // 2)


def api_key_digest(token: str) -> bytes:
    """What the store keeps of an API key: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).digest()
