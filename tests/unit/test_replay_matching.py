"""The replay matchers: every matcher, captures, references and the differences they report."""

from typing import Any

import pytest

from gateway.replay.matching import (
    Difference,
    PatternError,
    check,
    match,
    references,
    same,
    substitute,
)


def diffs(expected: Any, actual: Any, captures: dict[str, Any] | None = None) -> list[str]:
    return [str(d) for d in match(expected, actual, {} if captures is None else captures)]


def test_plain_values_match_exactly() -> None:
    value = {"a": [1, "x", None, True, {"b": 2.5}], "c": ""}
    assert diffs(value, value) == []


def test_a_scalar_difference_names_its_path_the_expected_and_the_actual() -> None:
    assert diffs({"result": {"parts": [1, 2]}}, {"result": {"parts": [1, 3]}}) == [
        "$.result.parts[1]: expected 2, got 3"
    ]


def test_missing_and_extra_members_are_differences() -> None:
    assert diffs({"a": 1, "b": 2}, {"a": 1, "c": 3}) == [
        "$.b: expected 2, got nothing (missing)",
        "$.c: expected nothing, got 3",
    ]


def test_lists_of_other_lengths() -> None:
    assert diffs([1, 2], [1]) == ["$[1]: expected 2, got nothing (list too short)"]
    assert diffs([1], [1, {"x": 1}]) == ['$[1]: expected nothing, got {"x": 1}']


def test_keys_that_are_not_names_are_quoted_in_paths() -> None:
    assert diffs({"a b": 1}, {"a b": 2}) == ['$["a b"]: expected 1, got 2']


def test_json_types_are_strict() -> None:
    assert not same(True, 1) and not same(1, True) and not same(0, False)
    assert not same("1", 1) and not same(None, 0) and not same([], {})
    assert same(1, 1.0)
    assert diffs({"n": 1}, {"n": True}) == ["$.n: expected 1, got true"]
    assert diffs({"n": 1}, {"n": "1"}) == ['$.n: expected 1, got "1"']


def test_a_type_mismatch_is_one_difference() -> None:
    assert diffs({"a": {"b": 1}}, {"a": [1]}) == ['$.a: expected {"b": 1}, got [1]']


@pytest.mark.parametrize("value", ["8242D945", "ZZZZZZZZ", "00000000"])
def test_hash_matcher_accepts_hashes(value: str) -> None:
    assert diffs({"$match": "hash"}, value) == []


@pytest.mark.parametrize("value", ["8242d945", "8242D94", "8242D9450", 12345678, None])
def test_hash_matcher_refuses_other_values(value: Any) -> None:
    assert len(diffs({"$match": "hash"}, value)) == 1


@pytest.mark.parametrize(
    "value", ["2026-06-01 12:00:00", "2026-06-01 12:00:00.123", "0000-00-00 00:00:00"]
)
def test_datetime_matcher_accepts_api_datetimes(value: str) -> None:
    assert diffs({"$match": "datetime"}, value) == []


@pytest.mark.parametrize(
    "value",
    [
        "2026-06-01T12:00:00",
        "2026-06-01 12:00",
        "2026-06-01 12:00:00.12",
        "2026-02-30 12:00:00",
        "2026-06-01 12:00:00Z",
        1780000000,
    ],
)
def test_datetime_matcher_refuses_other_values(value: Any) -> None:
    [difference] = diffs({"$match": "datetime"}, value)
    assert "expected a datetime" in difference


@pytest.mark.parametrize("value", [None, 0, "", [], {"a": 1}, False])
def test_any_matcher_accepts_anything_present(value: Any) -> None:
    assert diffs({"x": {"$match": "any"}}, {"x": value}) == []


def test_any_matcher_still_needs_the_member() -> None:
    assert diffs({"x": {"$match": "any"}}, {}) == [
        '$.x: expected {"$match": "any"}, got nothing (missing)'
    ]


def test_regex_matcher_matches_the_whole_string() -> None:
    assert diffs({"$regex": "[a-z]+ \\d"}, "abc 1") == []
    assert diffs({"$regex": "[a-z]+"}, "abc 1") == [
        '$: expected a string matching /[a-z]+/, got "abc 1"'
    ]
    assert len(diffs({"$regex": ".*"}, 5)) == 1


def test_contains_ignores_other_members_but_checks_the_listed_ones() -> None:
    actual = {"a": 1, "b": {"c": 2}, "d": 3}
    assert diffs({"$contains": {"a": 1, "b": {"c": 2}}}, actual) == []
    assert diffs({"$contains": {"a": 2, "e": 1}}, actual) == [
        "$.a: expected 2, got 1",
        "$.e: expected 1, got nothing (missing)",
    ]
    assert diffs({"$contains": {"a": 1}}, [1]) == [
        '$: expected an object containing {"a": 1}, got [1]'
    ]


def test_literal_compares_exactly_even_dollar_keys() -> None:
    assert diffs({"$literal": {"$match": "hash"}}, {"$match": "hash"}) == []
    assert len(diffs({"$literal": {"$match": "hash"}}, "8242D945")) == 1


def test_capture_stores_the_value_and_a_reference_uses_it() -> None:
    captures: dict[str, Any] = {}
    assert (
        diffs({"result": {"$capture": "sms1", "$match": "hash"}}, {"result": "8242D945"}, captures)
        == []
    )
    assert captures == {"sms1": "8242D945"}
    assert diffs({"hash": "$sms1"}, {"hash": "8242D945"}, captures) == []
    assert diffs({"hash": "$sms1"}, {"hash": "AAAAAAAA"}, captures) == [
        '$.hash: expected $sms1 = "8242D945", got "AAAAAAAA"'
    ]


def test_a_capture_alone_accepts_any_value() -> None:
    captures: dict[str, Any] = {}
    assert diffs({"$capture": "page"}, {"cursor": [1, 2]}, captures) == []
    assert captures == {"page": {"cursor": [1, 2]}}


def test_a_capture_that_does_not_match_is_not_stored() -> None:
    captures: dict[str, Any] = {}
    assert len(diffs({"$capture": "sms1", "$match": "hash"}, "nope", captures)) == 1
    assert captures == {}


def test_a_capture_is_kept_when_something_else_differs() -> None:
    captures: dict[str, Any] = {}
    found = diffs({"a": {"$capture": "h"}, "b": 1}, {"a": "X", "b": 2}, captures)
    assert found == ["$.b: expected 1, got 2"] and captures == {"h": "X"}


def test_a_reference_that_was_never_captured_is_a_difference() -> None:
    assert diffs("$nope", "x") == ['$: expected $nope, which was not captured, got "x"']


def test_double_dollar_is_a_literal_dollar() -> None:
    assert diffs("$$sms1", "$sms1") == []
    assert diffs({"price": "$$5"}, {"price": "$5"}) == []
    assert diffs("$$", "$") == []


def test_substitute_replaces_references_in_requests() -> None:
    captures = {"sms1": "8242D945", "page": "abc"}
    params = [{"hash": "$sms1"}, {"cursor": "$page", "note": "$$sms1"}, 5, "plain"]
    assert substitute(params, captures) == [
        {"hash": "8242D945"},
        {"cursor": "abc", "note": "$sms1"},
        5,
        "plain",
    ]
    assert references(params) == {"sms1", "page"}


def test_substitute_refuses_a_missing_capture() -> None:
    with pytest.raises(PatternError, match=r"\$\[0\]: \$sms9 was not captured"):
        substitute(["$sms9"], {})


def test_a_lone_dollar_string_must_be_escaped() -> None:
    with pytest.raises(PatternError, match=r"write \$\$ for a literal \$"):
        references(["$5 off"])
    with pytest.raises(PatternError, match=r"\$\.a"):
        check({"a": "$-x"})


def test_check_reports_captures_and_references() -> None:
    expected = {
        "result": {"$capture": "sms1", "$match": "hash"},
        "list": ["$before", {"$contains": {"x": "$other", "y": {"$capture": "y1"}}}],
    }
    assert check(expected) == ({"sms1", "y1"}, {"before", "other"})


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"$mach": "hash"}, "unknown matcher key '\\$mach'"),
        ({"$match": "uuid"}, "\\$match must be one of hash, datetime, any"),
        ({"$match": "hash", "$regex": "x"}, "use only one of"),
        ({"$regex": "("}, "bad \\$regex"),
        ({"$regex": 5}, "\\$regex must be a string"),
        ({"$contains": [1]}, "\\$contains must be an object"),
        ({"$capture": "1abc"}, "\\$capture must be a name"),
        ({"$capture": "a-b"}, "\\$capture must be a name"),
    ],
)
def test_malformed_matchers_are_refused_with_their_path(pattern: Any, message: str) -> None:
    with pytest.raises(PatternError, match=message) as error:
        check({"result": [pattern]})
    assert str(error.value).startswith("$.result[0]:")


def test_a_difference_reads_as_one_line() -> None:
    difference = Difference("$.result.cost", '"0.0650"', '"0.1300"')
    assert str(difference) == '$.result.cost: expected "0.0650", got "0.1300"'


def test_long_values_are_cut_short() -> None:
    [difference] = diffs("short", "x" * 500)
    assert len(difference) < 200 and difference.endswith("…")
