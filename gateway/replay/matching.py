"""Expected values with matchers and captures, compared to actual JSON values."""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The spelling of every matcher object; any other "$" key in an expected object is an error,
# so that a typo such as "$mach" cannot silently turn a matcher into a plain object.
MATCH = "$match"
REGEX = "$regex"
CAPTURE = "$capture"
CONTAINS = "$contains"
LITERAL = "$literal"
MATCHER_KEYS = frozenset({MATCH, REGEX, CAPTURE, CONTAINS, LITERAL})
_CHECKS = (MATCH, REGEX, CONTAINS, LITERAL)

HASH = re.compile(r"[A-Z0-9]{8}")
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{3})?")
UNSET_DATETIME = "0000-00-00 00:00:00"
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MATCH_KINDS = {
    "hash": "a hash (8 of [A-Z0-9])",
    "datetime": "a datetime (YYYY-MM-DD HH:MM:SS[.mmm])",
    "any": "any value",
}
_ROOT = "$"
_SHOWN_CHARS = 120

Captures = dict[str, Any]


class PatternError(ValueError):
    """An expected value or a request that does not follow the fixture format."""


@dataclass(frozen=True, slots=True)
class Difference:
    path: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.actual}"


def show(value: Any) -> str:
    """A value as compact JSON, cut short so that one difference stays one readable line."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if NAME.fullmatch(key) else f"{path}[{json.dumps(key)}]"


def reference(text: str) -> str | None:
    """The capture name that a `"$name"` string refers to, or None for any other string."""
    if text.startswith("$") and NAME.fullmatch(text, 1):
        return text[1:]
    return None


def _literal_string(text: str, path: str) -> str:
    """The string a non-reference fixture string stands for: `$$x` is the literal `$x`."""
    if not text.startswith("$"):
        return text
    if text.startswith("$$"):
        return text[1:]
    raise PatternError(f"{path}: {show(text)} is not a capture name; write $$ for a literal $")


def is_matcher(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value)


def check(expected: Any, path: str = _ROOT) -> tuple[set[str], set[str]]:
    """Validate an expected value; answers (names it captures, names it refers to)."""
    captures: set[str] = set()
    references: set[str] = set()
    _check(expected, path, captures, references)
    return captures, references


def _check(value: Any, path: str, captures: set[str], references: set[str]) -> None:
    if isinstance(value, str):
        name = reference(value)
        if name is not None:
            references.add(name)
        else:
            _literal_string(value, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, child(path, index), captures, references)
    elif is_matcher(value):
        _check_matcher(value, path, captures, references)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(item, child(path, key), captures, references)


def _check_matcher(value: dict[str, Any], path: str, captures: set[str], refs: set[str]) -> None:
    unknown = sorted(set(value) - MATCHER_KEYS)
    if unknown:
        raise PatternError(f"{path}: unknown matcher key {unknown[0]!r} (write $literal for data)")
    if sum(key in value for key in _CHECKS) > 1:
        raise PatternError(f"{path}: use only one of {', '.join(_CHECKS)} in a matcher")
    # Checked as a string first: a list or an object cannot be looked up in MATCH_KINDS.
    if MATCH in value and not (isinstance(value[MATCH], str) and value[MATCH] in MATCH_KINDS):
        raise PatternError(f"{path}: $match must be one of {', '.join(MATCH_KINDS)}")
    if REGEX in value:
        if not isinstance(value[REGEX], str):
            raise PatternError(f"{path}: $regex must be a string")
        try:
            re.compile(value[REGEX])
        except re.error as exc:
            raise PatternError(f"{path}: bad $regex: {exc}") from None
    if CONTAINS in value:
        if not isinstance(value[CONTAINS], dict):
            raise PatternError(f"{path}: $contains must be an object")
        for key, item in value[CONTAINS].items():
            _check(item, child(path, key), captures, refs)
    if CAPTURE in value:
        name = value[CAPTURE]
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise PatternError(f"{path}: $capture must be a name such as sms1")
        captures.add(name)


def references(value: Any, path: str = _ROOT) -> set[str]:
    """The capture names a request value refers to; in requests only strings are read."""
    if isinstance(value, str):
        name = reference(value)
        if name is None:
            _literal_string(value, path)
            return set()
        return {name}
    items = (
        enumerate(value)
        if isinstance(value, list)
        else value.items()
        if isinstance(value, dict)
        else ()
    )
    names: set[str] = set()
    for key, item in items:
        names |= references(item, child(path, key))
    return names


def substitute(value: Any, captures: Mapping[str, Any], path: str = _ROOT) -> Any:
    """A request value with every `"$name"` replaced by its capture and `$$` unescaped."""
    if isinstance(value, str):
        name = reference(value)
        if name is None:
            return _literal_string(value, path)
        if name not in captures:
            raise PatternError(f"{path}: ${name} was not captured (did its exchange fail?)")
        return captures[name]
    if isinstance(value, list):
        return [substitute(item, captures, child(path, i)) for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {key: substitute(item, captures, child(path, key)) for key, item in value.items()}
    return value


def match(expected: Any, actual: Any, captures: Captures, path: str = _ROOT) -> list[Difference]:
    """Every difference between an expected value and an actual one; fills `captures`.

    A capture is stored as soon as its own value matches, even when something else in the same
    answer differs, so that one wrong field does not make every later exchange fail too.
    """
    differences: list[Difference] = []
    _match(expected, actual, captures, path, differences)
    return differences


def _match(
    expected: Any, actual: Any, captures: Captures, path: str, out: list[Difference]
) -> None:
    if is_matcher(expected):
        _match_matcher(expected, actual, captures, path, out)
    elif isinstance(expected, str):
        name = reference(expected)
        if name is None:
            _match_equal(_literal_string(expected, path), actual, path, out)
        elif name not in captures:
            out.append(Difference(path, f"${name}, which was not captured", show(actual)))
        elif not same(captures[name], actual):
            out.append(Difference(path, f"${name} = {show(captures[name])}", show(actual)))
    elif isinstance(expected, dict) and isinstance(actual, dict):
        _match_members(expected, actual, captures, path, out, exact=True)
    elif isinstance(expected, list) and isinstance(actual, list):
        for index, item in enumerate(expected):
            if index < len(actual):
                _match(item, actual[index], captures, child(path, index), out)
            else:
                out.append(Difference(child(path, index), show(item), "nothing (list too short)"))
        for index in range(len(expected), len(actual)):
            out.append(Difference(child(path, index), "nothing", show(actual[index])))
    else:
        _match_equal(expected, actual, path, out)


def _match_members(
    expected: dict[str, Any],
    actual: dict[str, Any],
    captures: Captures,
    path: str,
    out: list[Difference],
    *,
    exact: bool,
) -> None:
    for key, item in expected.items():
        if key in actual:
            _match(item, actual[key], captures, child(path, key), out)
        else:
            out.append(Difference(child(path, key), show(item), "nothing (missing)"))
    if exact:
        for key in actual.keys() - expected.keys():
            out.append(Difference(child(path, key), "nothing", show(actual[key])))


def _match_matcher(
    matcher: dict[str, Any], actual: Any, captures: Captures, path: str, out: list[Difference]
) -> None:
    before = len(out)
    if LITERAL in matcher:
        _match_equal(matcher[LITERAL], actual, path, out)
    elif MATCH in matcher:
        if not matches_kind(matcher[MATCH], actual):
            out.append(Difference(path, MATCH_KINDS[matcher[MATCH]], show(actual)))
    elif REGEX in matcher:
        if not isinstance(actual, str) or not re.fullmatch(matcher[REGEX], actual):
            out.append(Difference(path, f"a string matching /{matcher[REGEX]}/", show(actual)))
    elif CONTAINS in matcher:
        if isinstance(actual, dict):
            _match_members(matcher[CONTAINS], actual, captures, path, out, exact=False)
        else:
            out.append(
                Difference(path, f"an object containing {show(matcher[CONTAINS])}", show(actual))
            )
    if CAPTURE in matcher and len(out) == before:
        captures[matcher[CAPTURE]] = actual


def matches_kind(kind: str, actual: Any) -> bool:
    if kind == "any":
        return True
    if not isinstance(actual, str):
        return False
    if kind == "hash":
        return HASH.fullmatch(actual) is not None
    if actual == UNSET_DATETIME:
        return True
    if DATETIME.fullmatch(actual) is None:
        return False
    try:
        datetime.fromisoformat(actual)
    except ValueError:
        return False  # the right shape but no such day, e.g. 2026-02-30
    return True


def _match_equal(expected: Any, actual: Any, path: str, out: list[Difference]) -> None:
    if not same(expected, actual):
        out.append(Difference(path, show(expected), show(actual)))


def same(expected: Any, actual: Any) -> bool:
    """JSON equality: unlike Python's, true is not 1 and 1 is not "1"; 1 and 1.0 are equal."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    if isinstance(expected, dict):
        return expected.keys() == actual.keys() and all(
            same(v, actual[k]) for k, v in expected.items()
        )
    return bool(expected == actual)
