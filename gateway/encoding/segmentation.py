"""Split a message into SMS parts: pick GSM 03.38 or UCS-2, count its units, cut it greedily."""

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Final, Literal

from gateway.encoding.gsm import GSM_BASIC_CHARSET, GSM_EXTENDED_CHARSET
from gateway.encoding.transliteration import GSM_TRANSLITERATION

Encoding = Literal["GSM", "UNICODE"]

# 3GPP TS 23.040 §9.2.3.24.1: every part of a concatenated message carries a 6-octet user data
# header, leaving 134 of the 140 octets: 153 septets or 67 UCS-2 units instead of 160 or 70.
GSM_SINGLE_PART: Final = 160
GSM_MULTI_PART: Final = 153
UNICODE_SINGLE_PART: Final = 70
UNICODE_MULTI_PART: Final = 67

# A character class is a single C-level scan, far cheaper than a per-character Python loop.
_NOT_BASIC: Final = re.compile(f"[^{re.escape(GSM_BASIC_CHARSET)}]")
_NOT_GSM: Final = re.compile(f"[^{re.escape(GSM_BASIC_CHARSET + GSM_EXTENDED_CHARSET)}]")
_EXTENDED: Final = frozenset(GSM_EXTENDED_CHARSET)
_EXTENDED_CHAR: Final = re.compile(f"[{re.escape(GSM_EXTENDED_CHARSET)}]")
# A code point beyond the BMP is a UTF-16 surrogate pair: two units that must stay together.
# A surrogate code point on its own is not a character and has no UTF-16 encoding.
_ASTRAL_OR_SURROGATE: Final = re.compile("[\U00010000-\U0010ffff\ud800-\udfff]")
_FIRST_ASTRAL: Final = "\U00010000"
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_TRANSLITERATE: Final = str.maketrans(GSM_TRANSLITERATION)


@dataclass(frozen=True, slots=True)
class Segmentation:
    """How a message is sent: its encoding, the text of each part, and its total size."""

    #: ``"GSM"`` (GSM 03.38 7-bit default alphabet) or ``"UNICODE"`` (UCS-2 / UTF-16).
    encoding: Encoding
    #: The text of each SMS part, in order; joined they give back :attr:`text`.
    parts: list[str]
    #: Septets for GSM (an extension character costs 2), UTF-16 code units for UNICODE.
    units: int
    #: The text that is sent: the input, transliterated if GSM was forced.
    text: str

    @property
    def part_count(self) -> int:
        """The number of SMS parts the message is billed as."""
        return len(self.parts)


def segment(text: str, force_encoding: str | None = None) -> Segmentation:
    """Choose the encoding of ``text`` and split it into SMS parts.

    With ``force_encoding=None`` the message is GSM when every character is in the GSM 03.38
    default alphabet or its extension table, otherwise UNICODE. ``"UNICODE"`` forces UCS-2
    counting on the unchanged text. ``"GSM"`` transliterates every other character with
    :data:`GSM_TRANSLITERATION` and replaces what it cannot map with ``?``.

    Parts are filled greedily: an extension character (two septets) and a surrogate pair (two
    UTF-16 units) are never split across two parts. Raises :class:`TypeError` if ``text`` is not
    a ``str``; :class:`ValueError` for any other ``force_encoding``, or for a lone surrogate code
    point (not a character: it has no UTF-16 encoding) unless GSM is forced, which makes it ``?``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if force_encoding is None:
        heavy = _extension_positions(text)
        if heavy is not None:
            return _gsm(text, heavy)
        return _unicode(text)
    if force_encoding == "GSM":
        sent = _to_gsm(text)
        return _gsm(sent, [match.start() for match in _EXTENDED_CHAR.finditer(sent)])
    if force_encoding == "UNICODE":
        return _unicode(text)
    raise ValueError(
        f"force_encoding must be 'GSM', 'UNICODE' or None, not {force_encoding!r}",
    )


def _extension_positions(text: str) -> list[int] | None:
    """The indexes of the extension characters of ``text``, or None if it is not all GSM."""
    heavy: list[int] = []
    # Only characters outside the default alphabet need a look: usually none or a few.
    for match in _NOT_BASIC.finditer(text):
        if match.group() not in _EXTENDED:
            return None
        heavy.append(match.start())
    return heavy


def _to_gsm(text: str) -> str:
    """``text`` with every non-GSM character transliterated, or ``?`` where there is no mapping."""
    if _NOT_GSM.search(text) is None:
        return text
    # Every value of the table is GSM text, so what is left outside GSM had no mapping.
    return _NOT_GSM.sub("?", text.translate(_TRANSLITERATE))


def has_lone_surrogate(text: str) -> bool:
    """True for a str that is not Unicode text: JSON can escape a lone UTF-16 surrogate
    ("\\ud800"), and such a string cannot be encoded, stored, counted or sent."""
    return _LONE_SURROGATE.search(text) is not None


def _gsm(text: str, extension_positions: list[int]) -> Segmentation:
    """Segment GSM text. 3GPP TS 23.038: an extension character is ESC + code, two septets."""
    units = len(text) + len(extension_positions)
    parts = _split(text, extension_positions, units, GSM_SINGLE_PART, GSM_MULTI_PART)
    return Segmentation("GSM", parts, units, text)


def _unicode(text: str) -> Segmentation:
    """Segment text as UTF-16: a character beyond the BMP is a surrogate pair, two units."""
    astral_positions: list[int] = []
    for match in _ASTRAL_OR_SURROGATE.finditer(text):
        if match.group() < _FIRST_ASTRAL:
            raise ValueError(f"text has a lone surrogate at index {match.start()}")
        astral_positions.append(match.start())
    units = len(text) + len(astral_positions)
    parts = _split(text, astral_positions, units, UNICODE_SINGLE_PART, UNICODE_MULTI_PART)
    return Segmentation("UNICODE", parts, units, text)


def _split(text: str, heavy: list[int], units: int, single: int, multi: int) -> list[str]:
    """Cut ``text`` into parts of at most ``multi`` units, each as long as it can be.

    Every character costs one unit except those at the sorted indexes ``heavy``, which cost two
    and are never split. Greedy filling gives the fewest parts: by induction, its k-th cut is
    never to the left of the k-th cut of any other valid split.
    """
    if units <= single:
        return [text]
    if not heavy:
        return [text[start : start + multi] for start in range(0, len(text), multi)]
    parts: list[str] = []
    length = len(text)
    start = 0
    first_heavy = 0  # index into ``heavy`` of the first heavy character at or after ``start``
    while start < length:
        end = min(length, start + multi)
        end_heavy = bisect_left(heavy, end, first_heavy)
        cost = end - start + end_heavy - first_heavy
        # Give back characters from the end until the part fits; a heavy one gives back two. The
        # loop only runs while the part holds a heavy character: without one it already fits.
        while cost > multi:
            end -= 1
            if heavy[end_heavy - 1] == end:
                end_heavy -= 1
                cost -= 2
            else:
                cost -= 1
        parts.append(text[start:end])
        start = end
        first_heavy = end_heavy
    return parts
