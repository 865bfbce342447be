"""Hand-checked cases for the segmentation engine at every part boundary."""

import gsm0338
import pytest

from gateway.encoding import (
    GSM_BASIC_CHARSET,
    GSM_EXTENDED_CHARSET,
    GSM_TRANSLITERATION,
    Segmentation,
    segment,
)

CODEC = gsm0338.Codec()

# 3GPP TS 23.038 §6.2.1: the default alphabet in code order, 0x1B (ESC) left out.
TS_23_038_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ"
    "ÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# 3GPP TS 23.038 §6.2.1.1: the extension table, in code order.
TS_23_038_EXTENSION = "\f^{}\\[~]|€"


def sizes(result: Segmentation) -> list[int]:
    return [len(part) for part in result.parts]


def test_tables_match_3gpp_ts_23_038() -> None:
    assert len(TS_23_038_BASIC) == 127
    assert GSM_BASIC_CHARSET == TS_23_038_BASIC
    assert GSM_EXTENDED_CHARSET == TS_23_038_EXTENSION
    assert "\x1b" not in GSM_BASIC_CHARSET + GSM_EXTENDED_CHARSET


def test_empty_text_is_one_empty_gsm_part() -> None:
    result = segment("")
    assert result == Segmentation("GSM", [""], 0, "")
    assert result.part_count == 1


@pytest.mark.parametrize(
    ("length", "expected_sizes"),
    [
        (1, [1]),
        (159, [159]),
        (160, [160]),
        (161, [153, 8]),
        (306, [153, 153]),
        (307, [153, 153, 1]),
        (459, [153, 153, 153]),
        (460, [153, 153, 153, 1]),
    ],
)
def test_gsm_part_boundaries(length: int, expected_sizes: list[int]) -> None:
    text = ("Hello world, 0123456789 " * 20)[:length]
    result = segment(text)
    assert result.encoding == "GSM"
    assert result.units == length
    assert sizes(result) == expected_sizes
    assert result.part_count == len(expected_sizes)
    assert "".join(result.parts) == text


def test_long_gsm_part_sizes_at_153_and_154() -> None:
    # 153 septets in the first part exactly, then the 154th starts the second.
    assert sizes(segment("a" * 153 + "b" * 100)) == [153, 100]
    assert segment("a" * 153 + "b" * 100).parts[1] == "b" * 100
    assert sizes(segment("a" * 154 + "b" * 100)) == [153, 101]
    assert segment("a" * 154 + "b" * 100).parts[1] == "a" + "b" * 100


@pytest.mark.parametrize(
    ("length", "expected_sizes"),
    [
        (69, [69]),
        (70, [70]),
        (71, [67, 4]),
        (134, [67, 67]),
        (135, [67, 67, 1]),
    ],
)
def test_unicode_part_boundaries(length: int, expected_sizes: list[int]) -> None:
    text = ("Привет, мир! " * 20)[:length]
    result = segment(text)
    assert result.encoding == "UNICODE"
    assert result.units == length
    assert sizes(result) == expected_sizes
    assert "".join(result.parts) == text


def test_long_unicode_part_sizes_at_67_and_68() -> None:
    assert sizes(segment("ж" * 67 + "x" * 10)) == [67, 10]
    assert sizes(segment("ж" * 68 + "x" * 10)) == [67, 11]


def test_extension_character_straddling_153_moves_to_next_part() -> None:
    # 152 septets, then "€" (septets 153 and 154): it cannot be split, so part 1 stops at 152.
    text = "a" * 152 + "€" + "b" * 20
    result = segment(text)
    assert result.encoding == "GSM"
    assert result.units == 152 + 2 + 20
    assert result.parts == ["a" * 152, "€" + "b" * 20]


def test_extension_character_ending_exactly_at_153_stays() -> None:
    text = "a" * 151 + "{" + "b" * 20
    result = segment(text)
    assert result.units == 173
    assert result.parts == ["a" * 151 + "{", "b" * 20]


def test_extension_character_straddling_306_moves_to_next_part() -> None:
    # Part 1 holds 153 septets; part 2 has 152 of "c" and then "{" would straddle 306.
    text = "a" * 153 + "c" * 152 + "{" + "d" * 5
    result = segment(text)
    assert result.units == 153 + 152 + 2 + 5
    assert result.parts == ["a" * 153, "c" * 152, "{" + "d" * 5]
    assert result.part_count == 3


def test_extension_characters_count_two_septets_for_the_single_part_limit() -> None:
    assert sizes(segment("€" * 80)) == [80]
    assert segment("€" * 80).units == 160
    assert sizes(segment("a" + "€" * 80)) == [77, 4]
    assert segment("a" + "€" * 80).units == 161


def test_emoji_straddling_67_moves_to_next_part() -> None:
    text = "ж" * 66 + "😀" + "ж" * 10
    result = segment(text)
    assert result.encoding == "UNICODE"
    assert result.units == 66 + 2 + 10
    assert result.parts == ["ж" * 66, "😀" + "ж" * 10]


def test_emoji_ending_exactly_at_67_stays() -> None:
    text = "ж" * 65 + "😀" + "ж" * 10
    assert segment(text).parts == ["ж" * 65 + "😀", "ж" * 10]


def test_emoji_counts_two_units_for_the_single_part_limit() -> None:
    assert segment("😀" * 35) == Segmentation("UNICODE", ["😀" * 35], 70, "😀" * 35)
    assert sizes(segment("😀" * 36)) == [33, 3]


def test_greek_capitals_are_gsm_one_septet_each() -> None:
    text = "ΔΦΓΛΩΠΨΣΘΞ"
    assert segment(text) == Segmentation("GSM", [text], 10, text)


def test_greek_small_letters_are_unicode() -> None:
    assert segment("αβγ").encoding == "UNICODE"


def test_c_cedilla_capital_is_gsm_small_is_unicode() -> None:
    assert segment("Ça va").encoding == "GSM"
    assert segment("ça va").encoding == "UNICODE"
    assert segment("ça va", "GSM") == Segmentation("GSM", ["Ça va"], 5, "Ça va")


def test_cr_and_lf_are_one_septet_each() -> None:
    assert segment("a\r\nb") == Segmentation("GSM", ["a\r\nb"], 4, "a\r\nb")


def test_form_feed_is_a_two_septet_extension_character() -> None:
    assert segment("a\fb") == Segmentation("GSM", ["a\fb"], 4, "a\fb")


def test_escape_character_makes_text_unicode() -> None:
    assert segment("a\x1bb") == Segmentation("UNICODE", ["a\x1bb"], 3, "a\x1bb")
    assert segment("a\x1bb", "GSM").text == "a?b"


def test_forced_gsm_transliterates_typography() -> None:
    assert segment("« Hello… »", "GSM") == Segmentation("GSM", ['" Hello... "'], 12, '" Hello... "')
    assert segment("\u201cIt\u2019s \u2014 ok\u201d\u00a0\u200b", "GSM").text == '"It\'s - ok" '


def test_forced_gsm_replaces_unmappable_characters_with_question_mark() -> None:
    assert segment("漢", "GSM") == Segmentation("GSM", ["?"], 1, "?")
    assert segment("a😀b", "GSM").text == "a?b"


def test_forced_gsm_keeps_gsm_text_and_extension_characters() -> None:
    assert segment("{€} x", "GSM") == Segmentation("GSM", ["{€} x"], 8, "{€} x")


def test_forced_gsm_of_long_text_counts_after_transliteration() -> None:
    # 170 characters, each "…" becomes three septets: 510 septets, 4 parts of 153 at most.
    result = segment("…" * 170, "GSM")
    assert result.units == 510
    assert sizes(result) == [153, 153, 153, 51]


def test_forced_unicode_of_ascii_counts_utf16_units() -> None:
    result = segment("a" * 71, "UNICODE")
    assert result.encoding == "UNICODE"
    assert result.units == 71
    assert sizes(result) == [67, 4]
    assert segment("{€}", "UNICODE") == Segmentation("UNICODE", ["{€}"], 3, "{€}")


@pytest.mark.parametrize("bad", [b"hello", None, 42])
def test_non_str_text_raises_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="str"):
        segment(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["gsm7", "", "gsm", "UCS2"])
def test_unknown_force_encoding_raises_value_error_naming_allowed_values(bad: str) -> None:
    with pytest.raises(ValueError, match="'GSM', 'UNICODE' or None") as error:
        segment("hello", bad)
    assert repr(bad) in str(error.value)


@pytest.mark.parametrize("force_encoding", [None, "UNICODE"])
def test_lone_surrogate_raises_value_error_unless_gsm_is_forced(force_encoding: str | None) -> None:
    with pytest.raises(ValueError, match="lone surrogate at index 2"):
        segment("ab\ud800c", force_encoding)
    assert segment("ab\ud800c", "GSM").text == "ab?c"


def test_segmentation_is_frozen() -> None:
    result = segment("hello")
    with pytest.raises(AttributeError):
        result.units = 3  # type: ignore[misc]


def test_mapping_has_at_least_100_entries() -> None:
    assert len(GSM_TRANSLITERATION) >= 100


def test_mapping_keys_are_single_non_gsm_characters() -> None:
    gsm = set(GSM_BASIC_CHARSET + GSM_EXTENDED_CHARSET)
    for key in GSM_TRANSLITERATION:
        assert len(key) == 1, repr(key)
        assert key not in gsm, repr(key)


def test_mapping_values_are_gsm_encodable() -> None:
    gsm = set(GSM_BASIC_CHARSET + GSM_EXTENDED_CHARSET)
    for key, value in GSM_TRANSLITERATION.items():
        assert set(value) <= gsm, (key, value)
        # The codec accepts ESC, which a sender may not use, hence the extra check above.
        assert CODEC.decode(CODEC.encode(value)[0])[0] == value, (key, value)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u2033\u2039\u203a\u00ab\u00bb",
            "''''\"\"\"\"'\"''\"\"",
        ),
        ("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-------"),
        ("\u00a0\u2000\u2005\u200a\u202f\u205f\u3000\t", "        "),
        ("a\u200b\u200c\u200d\ufeff\u2060b", "ab"),
        (
            "áâãāăą çćčĉċ ďđ êëēėęě íîïīį óôõōő úûūůűų ýÿ",
            "aaaaaa Çcccc dd eeeeee iiiii ooooo uuuuuu yy",
        ),
        ("źżž śšşș ţțť ł ř ńň ğ", "zzz ssss ttt l r nn g"),
        ("ÁÂÀÃĀĂĄ ÈÊË ÌÍÎÏ ÒÓÔÕ ÙÚÛ ÝŸ", "AAAAAAA EEE IIII OOOO UUU YY"),
        ("ŽŠČĆŁŚŹŻŘŃŇĎŤ", "ZSCCLSZZRNNDT"),
        ("Œœ Ðð Þþ ĳ", "OEoe Dd Thth ij"),
        ("αβγδεζηθικλμνξοπρσςτυφχψω", "ABΓΔEZHΘIKΛMNΞOΠPΣΣTYΦXΨΩ"),
        ("ΆΈΉΊΌΎΏ", "AEHIOYΩ"),
        ("©®™\u00d7÷½¼¾¹²³", "(c)(R)TMx/1/21/43/4123"),
        ("¦\u00b4\u02c6\u02dc`", "|'^~'"),
        ("\uff21\uff22\uff43\uff11\uff01", "ABc1!"),
        ("Привет, Жанна", "Privet, Zhanna"),
        ("Cafe\u0301 Zu\u0308rich", "Cafe Zurich"),
    ],
)
def test_mapping_covers_published_transliterations(source: str, expected: str) -> None:
    result = segment(source, "GSM")
    assert result.encoding == "GSM"
    assert result.text == expected


def test_mapping_never_maps_gsm_letters() -> None:
    text = "ñ ì ò ö Ä Å É Ç ü à"
    assert segment(text, "GSM").text == text
