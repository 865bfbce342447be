"""The GSM 03.38 default alphabet and its extension table, derived from the gsm0338 codec."""

from typing import Final

import gsm0338

# 3GPP TS 23.038 §6.2.1: code 0x1B is the escape to the extension table, not a character.
ESCAPE_CODE: Final = 0x1B

_CODEC: Final = gsm0338.Codec()


def _decode(data: bytes) -> str | None:
    """Return the text the codec reads from ``data``, or None if the codec rejects it."""
    try:
        text: str = _CODEC.decode(data, "strict")[0]
    except UnicodeDecodeError:
        return None
    return text


def _basic_alphabet() -> str:
    """The 127 characters of the default alphabet, in code order, without the escape."""
    chars = []
    for code in range(0x80):
        if code == ESCAPE_CODE:
            continue
        char = _decode(bytes((code,)))
        if char:
            chars.append(char)
    return "".join(chars)


def _extension_table() -> str:
    """The characters of the extension table, in code order.

    3GPP TS 23.038 §6.2.1.1: an extension character is ESC followed by its code; codes the table
    leaves unassigned are rejected by the codec. ESC ESC is reserved for a further table.
    """
    chars = []
    for code in range(0x80):
        if code == ESCAPE_CODE:
            continue
        char = _decode(bytes((ESCAPE_CODE, code)))
        if char:
            chars.append(char)
    return "".join(chars)


#: Every character of the GSM 03.38 default alphabet (one septet each), in code order.
GSM_BASIC_CHARSET: Final = _basic_alphabet()

#: Every character of the GSM 03.38 extension table (ESC + code: two septets each), in code order:
#: form feed, ``^``, ``{``, ``}``, ``\``, ``[``, ``~``, ``]``, ``|`` and ``€``.
GSM_EXTENDED_CHARSET: Final = _extension_table()

#: Every character a GSM-encoded message may carry.
GSM_CHARSET: Final = frozenset(GSM_BASIC_CHARSET + GSM_EXTENDED_CHARSET)
