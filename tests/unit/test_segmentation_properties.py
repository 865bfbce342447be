"""Property tests: the segmentation engine against independent reference computations."""

from bisect import bisect_left

import gsm0338
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.encoding import GSM_TRANSLITERATION, Segmentation, segment

CODEC = gsm0338.Codec()
ESC = "\x1b"

# Reference tables written out from 3GPP TS 23.038, independent of the engine's derivation.
EXTENSION = "\f^{}\\[~]|€"
BASIC = [CODEC.decode(bytes((code,)))[0] for code in range(0x80) if code != 0x1B]

# (single-part capacity, per-part capacity of a concatenated message), 3GPP TS 23.040.
CAPACITY = {"GSM": (160, 153), "UNICODE": (70, 67)}


def codec_encodable(char: str) -> bool:
    """Whether the gsm0338 codec encodes ``char``; ESC is a codec artefact, not a character."""
    if char == ESC:
        return False
    try:
        CODEC.encode(char)
    except UnicodeEncodeError:
        return False
    return True


def cost(char: str, encoding: str) -> int:
    if encoding == "GSM":
        # An extension character is sent as ESC + code: the codec writes two bytes.
        return len(CODEC.encode(char)[0])
    # UTF-16: a code point beyond the BMP is a surrogate pair.
    return len(char.encode("utf-16-le")) // 2


def minimum_part_count(costs: list[int], single: int, multi: int) -> int:
    """The fewest parts that hold ``costs`` in order, no character split: dynamic programming."""
    if sum(costs) <= single:
        return 1
    prefix = [0]
    for unit_cost in costs:
        prefix.append(prefix[-1] + unit_cost)
    # fewest[i]: fewest parts for the first i characters; a part (j, i] fits when it costs <= multi.
    fewest = [0]
    for end in range(1, len(costs) + 1):
        first_start = bisect_left(prefix, prefix[end] - multi)
        fewest.append(min(fewest[first_start:end]) + 1)
    return fewest[-1]


basic_chars = st.sampled_from(BASIC)
extension_chars = st.sampled_from(EXTENSION)
astral_chars = st.characters(min_codepoint=0x10000)
bmp_non_gsm_chars = st.characters(
    max_codepoint=0xFFFF, exclude_categories=["Cs"], exclude_characters=set(BASIC) | set(EXTENSION)
)
surrogate_chars = st.characters(categories=["Cs"])
transliterable_chars = st.sampled_from(sorted(GSM_TRANSLITERATION))


def sparse(light: st.SearchStrategy[str], heavy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Long runs of one-unit characters with a two-unit character now and then."""
    pieces = st.one_of(st.text(light, min_size=50, max_size=300), heavy)
    return st.lists(pieces, max_size=5).map("".join)


@st.composite
def near_boundaries(draw: st.DrawFn) -> str:
    """Text whose total is within two units of a part limit: 160/70, or 2 or 3 full parts."""
    light, heavy, single, multi = draw(
        st.sampled_from(
            [
                (basic_chars, extension_chars, 160, 153),
                (bmp_non_gsm_chars, astral_chars, 70, 67),
            ]
        )
    )
    target = draw(st.sampled_from([single, 2 * multi, 3 * multi])) + draw(st.integers(-2, 2))
    chars: list[str] = []
    units = 0
    while units < target:
        if target - units >= 2 and draw(st.booleans()):
            chars.append(draw(heavy))
            units += 2
        else:
            chars.append(draw(light))
            units += 1
    return "".join(chars)


gsm_texts = st.one_of(
    st.text(basic_chars, max_size=1000),
    st.text(st.one_of(basic_chars, extension_chars), max_size=1000),
    sparse(basic_chars, extension_chars),
    # The codec encodes ESC, but it is the escape to the extension table, not a character.
    sparse(basic_chars, st.just(ESC)),
)
unicode_texts = st.one_of(
    st.text(st.one_of(basic_chars, astral_chars, bmp_non_gsm_chars), min_size=1, max_size=1000),
    sparse(bmp_non_gsm_chars, astral_chars),
    st.text(
        st.one_of(
            basic_chars,
            extension_chars,
            astral_chars,
            bmp_non_gsm_chars,
            transliterable_chars,
            st.just(ESC),
        ),
        max_size=1000,
    ),
)
texts = st.one_of(gsm_texts, unicode_texts, near_boundaries(), st.text(max_size=1000))
force_encodings = st.sampled_from([None, "GSM", "UNICODE"])

SETTINGS = settings(max_examples=300, deadline=None)


def check_parts(result: Segmentation) -> None:
    """Every invariant of a segmentation, checked against the reference cost function."""
    assert result.encoding in CAPACITY
    single, multi = CAPACITY[result.encoding]
    assert "".join(result.parts) == result.text
    assert result.part_count == len(result.parts) >= 1
    costs = [cost(char, result.encoding) for char in result.text]
    assert result.units == sum(costs)
    part_costs = [sum(cost(char, result.encoding) for char in part) for part in result.parts]
    if result.part_count == 1:
        assert result.units <= single
        return
    assert result.units > single
    for index, part in enumerate(result.parts):
        assert part, "a part of a concatenated message is never empty"
        assert part_costs[index] <= multi
        if index + 1 < len(result.parts):
            next_char = result.parts[index + 1][0]
            # Greedy: the part could not have taken the next character too.
            assert part_costs[index] + cost(next_char, result.encoding) > multi
    assert result.part_count == minimum_part_count(costs, single, multi)


@SETTINGS
@given(texts, force_encodings)
def test_parts_are_valid_greedy_and_minimal(text: str, force_encoding: str | None) -> None:
    check_parts(segment(text, force_encoding))


@SETTINGS
@given(texts)
def test_auto_chooses_gsm_exactly_when_the_codec_encodes_every_character(text: str) -> None:
    result = segment(text)
    expected = "GSM" if all(codec_encodable(char) for char in text) else "UNICODE"
    assert result.encoding == expected
    assert result.text == text


@SETTINGS
@given(st.one_of(texts, st.text(st.one_of(basic_chars, surrogate_chars), max_size=200)))
def test_forced_gsm_is_always_gsm_encodable(text: str) -> None:
    result = segment(text, "GSM")
    assert result.encoding == "GSM"
    assert all(codec_encodable(char) for char in result.text)
    if all(codec_encodable(char) for char in text):
        assert result.text == text


@SETTINGS
@given(texts)
def test_forced_gsm_maps_each_character_on_its_own(text: str) -> None:
    expected = "".join(
        char if codec_encodable(char) else GSM_TRANSLITERATION.get(char, "?") for char in text
    )
    assert segment(text, "GSM").text == expected


@SETTINGS
@given(texts)
def test_forced_unicode_never_changes_text(text: str) -> None:
    result = segment(text, "UNICODE")
    assert result.encoding == "UNICODE"
    assert result.text == text
    assert result.units == len(text.encode("utf-16-le")) // 2
