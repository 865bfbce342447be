"""Object ids: API.md `hash`, 8 random characters of [A-Z0-9]."""

import secrets

HASH_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HASH_LENGTH = 8
_HASH_SPACE = len(HASH_ALPHABET) ** HASH_LENGTH
_DRAW_BYTES = 6
# Draws at or above this limit are rejected, so that every hash is equally likely.
_DRAW_LIMIT = (1 << (8 * _DRAW_BYTES)) // _HASH_SPACE * _HASH_SPACE


def new_hashes(count: int) -> list[str]:
    """Random object ids: 8 characters of [A-Z0-9] (API.md `hash`), from one urandom read."""
    hashes: list[str] = []
    while len(hashes) < count:
        pool = secrets.token_bytes(_DRAW_BYTES * (count - len(hashes)))
        for start in range(0, len(pool), _DRAW_BYTES):
            draw = int.from_bytes(pool[start : start + _DRAW_BYTES])
            if draw >= _DRAW_LIMIT:
                continue
            draw %= _HASH_SPACE
            chars = []
            for _ in range(HASH_LENGTH):
                draw, digit = divmod(draw, len(HASH_ALPHABET))
                chars.append(HASH_ALPHABET[digit])
            hashes.append("".join(chars))
    return hashes
