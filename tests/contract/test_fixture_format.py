"""The fixture format: what parses, what is refused (naming file:line), what the recorder writes."""

import base64
import json
from typing import Any

import pytest

from gateway.replay.fixtures import (
    MAX_NESTING,
    Call,
    FixtureError,
    HeaderAuth,
    JsonDocument,
    RawBody,
    parse,
)
from gateway.replay.matching import match
from gateway.replay.recorder import INVALID_AUTHORIZATION, Recorder, dump
from gateway.replay.runner import Profile, endpoint, parse_profile, profiles_from


def lines(*exchanges: Any) -> str:
    return "\n".join(json.dumps(exchange) for exchange in exchanges) + "\n"


SEND = {
    "request": {"method": "sms.send", "params": ["SMS", "+33612345678", "hi", None]},
    "response": {"result": {"$capture": "sms1", "$match": "hash"}},
}


def test_every_request_form_and_default() -> None:
    text = lines(
        SEND,
        {
            "name": "get",
            "auth": "bob",
            "request": {"method": "sms.get", "params": ["$sms1"], "id": "x"},
            "response": {"result": {"$match": "any"}},
        },
        {"auth": None, "request": {"json": [1]}, "status": 401},
        {"request": {"json": {"jsonrpc": "2.0", "method": "m"}}, "status": 204},
        {"auth": {"header": "Digest x"}, "request": {"text": "{"}, "response": {}},
        {"request": {"base64": "/w==", "content_type": None}, "response": {}},
    )
    exchanges = parse("\n" + text, "f.jsonl").exchanges
    assert [e.source for e in exchanges] == [f"f.jsonl:{n}" for n in range(2, 8)]
    send, get, batch, notification, text_body, raw = exchanges
    assert send.request == Call("sms.send", ["SMS", "+33612345678", "hi", None], True, None)
    assert (send.name, send.auth, send.status, send.content_type) == (
        "sms.send",
        "default",
        200,
        "application/json",
    )
    assert get.request == Call("sms.get", ["$sms1"], True, "x") and get.auth == "bob"
    assert batch.request == JsonDocument([1]) and batch.auth is None and not batch.has_response
    assert notification.status == 204 and notification.name == "raw request"
    assert text_body.request == RawBody(b"{") and text_body.auth == HeaderAuth("Digest x")
    assert raw.request == RawBody(b"\xff") and raw.content_type is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not JSON"),
        ("[1]", "an exchange is a JSON object"),
        ('{"request": {"method": "m"}, "response": 1, "expect": 1}', "unknown key 'expect'"),
        ('{"response": 1}', "needs a request"),
        ('{"request": {"method": "m"}}', "needs a response"),
        ('{"request": {"method": "m"}, "status": 204, "response": 1}', "HTTP 204 has no body"),
        ('{"request": {"method": "m"}, "status": "200", "response": 1}', "status must be"),
        ('{"request": {"method": "m", "json": 1}, "response": 1}', "exactly one of"),
        ('{"request": {"method": 5}, "response": 1}', "request.method must be a string"),
        ('{"request": {"method": "m", "params": 5}, "response": 1}', "array or an object"),
        ('{"request": {"method": "m", "id": true}, "response": 1}', "request.id must be"),
        ('{"request": {"json": 1, "params": 1}, "response": 1}', "unknown key 'params'"),
        ('{"request": {"base64": "!!"}, "response": 1}', "must be base64"),
        ('{"request": {"method": "m"}, "auth": 5, "response": 1}', "auth must be"),
        ('{"request": {"method": "m", "params": ["$x"]}, "response": 1}', "$x is not captured"),
        ('{"request": {"method": "m", "params": ["$5"]}, "response": 1}', "write $$"),
        ('{"request": {"method": "m"}, "response": {"$mach": "hash"}}', "unknown matcher key"),
        ('{"request": {"method": "m"}, "response": "$later"}', "$later is not captured"),
        ('{"request": {"method": "m"}, "response": {"$match": []}}', "$match must be one of"),
        ('{"request": {"method": "m"}, "response": {"$match": {}}}', "$match must be one of"),
        (
            '{"request": {"json": 1}, "status": 400, "response_headers": {"A": {"$match": [1]}}}',
            'response_headers["A"]: $match must be one of',
        ),
        ('{"request": {"base64": "\u00e9"}, "status": 400}', "must be base64"),
        (
            '{"request": {"method": "m"}, "auth": {"header": "Basic a\\nb"}, "status": 401}',
            "CR or LF",
        ),
        ('{"request": {"method": "m", "content_type": "a\\r\\nX: y"}, "response": 1}', "CR or LF"),
    ],
)
def test_format_errors_name_the_file_and_line(line: str, message: str) -> None:
    with pytest.raises(FixtureError) as error:
        parse(lines(SEND) + line + "\n", "tests/fixtures/x.jsonl")
    assert str(error.value).startswith("tests/fixtures/x.jsonl:2: ")
    assert message in str(error.value)


def nested_line(depth: int) -> str:
    """A fixture line whose request is arrays `depth` deep: the line nests `depth` + 2."""
    return '{"request": {"json": ' + "[" * depth + "1" + "]" * depth + '}, "status": 400}\n'


@pytest.mark.parametrize("depth", [MAX_NESTING - 1, 600, 100_000])
def test_a_line_nested_too_deeply_is_refused(depth: int) -> None:
    # 600 levels still parse, then make the runner recurse past Python's stack mid-run;
    # 100000 is too deep for the JSON parser itself.
    with pytest.raises(FixtureError, match=rf"^x:1: nested deeper than {MAX_NESTING} levels"):
        parse(nested_line(depth), "x")


def test_a_line_nested_to_the_limit_parses() -> None:
    assert len(parse(nested_line(MAX_NESTING - 2), "x").exchanges) == 1


def test_a_capture_is_usable_only_after_its_exchange_and_only_in_its_file() -> None:
    same_line = {
        "request": {"method": "m"},
        "response": {"a": {"$capture": "h"}, "b": "$h"},
    }
    with pytest.raises(FixtureError, match=r"x:1: \$h is not captured"):
        parse(lines(same_line), "x")
    use = {"request": {"method": "sms.get", "params": ["$sms1"]}, "response": {"result": 1}}
    assert len(parse(lines(SEND, use), "a").exchanges) == 2
    with pytest.raises(FixtureError, match=r"b:1: \$sms1"):
        parse(lines(use), "b")


def test_a_line_separator_inside_a_string_does_not_end_the_line() -> None:
    exchange = {"request": {"method": "m", "params": ["a\u2028b"]}, "response": 1}
    text = json.dumps(exchange, ensure_ascii=False) + "\n"
    [parsed] = parse(text, "x").exchanges
    assert isinstance(parsed.request, Call) and parsed.request.params == ["a\u2028b"]


def test_profiles_and_urls() -> None:
    assert parse_profile("bob=bob:p:w") == ("bob", Profile("bob", "p:w"))
    for spec in ("bob", "bob=bob", "=bob:pw", "bob=:pw"):
        with pytest.raises(ValueError, match="NAME=LOGIN:PASSWORD"):
            parse_profile(spec)
    profiles = profiles_from("alice", "pw", [("bob", Profile("bob", "x"))])
    assert set(profiles) == {"default", "alice", "bob"} and profiles["default"].login == "alice"
    assert "pw" not in repr(profiles)
    assert profiles["bob"].authorization() == "Basic " + base64.b64encode(b"bob:x").decode()
    assert endpoint("http://h:1") == endpoint("http://h:1/") == "http://h:1/json-rpc/v1.1/"
    assert endpoint("http://h:1/custom") == "http://h:1/custom"


class CheckedRecorder(Recorder):
    """Checks that everything recorded so far parses as one fixture file."""

    text = ""


def _record(recorder: CheckedRecorder, body: Any, answer: Any, **kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "authorization": "Basic " + base64.b64encode(b"alice:secret").decode(),
        "content_type": "application/json",
        "status": 200,
        "answer_headers": {},
    }
    options.update(kwargs)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    draft = recorder.draft(body=raw, answer=json.dumps(answer).encode(), **options)
    recorder.text += dump(draft.line)
    parse(recorder.text, "recorded")  # what the recorder writes is a valid fixture file
    recorder.written(draft)
    return draft.line


def test_recorder_generalises_run_dependent_values() -> None:
    recorder = CheckedRecorder(default_login="alice")
    call = {"jsonrpc": "2.0", "id": 1, "method": "sms.get", "params": ["AB12CD34"]}
    answer = {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {
            "hash": "AB12CD34",
            "status": "RECEIVED",  # 8 capitals, but not under a hash key
            "date_creation": "2026-06-01 12:00:00",
            "date_sent": "0000-00-00 00:00:00",
            "next_cursor": "opaque",
            "weird": {"$x": 1},
            "text": "$HOME",
        },
    }
    line = _record(recorder, call, answer)
    assert "auth" not in line  # alice is the default profile
    assert line["request"] == {"method": "sms.get", "params": ["AB12CD34"]}
    assert line["response"] == {
        "result": {
            "hash": {"$capture": "hash1", "$match": "hash"},
            "status": "RECEIVED",
            "date_creation": {"$match": "datetime"},
            "date_sent": "0000-00-00 00:00:00",
            "next_cursor": {"$capture": "cursor1", "$match": "any"},
            "weird": {"$literal": {"$x": 1}},
            "text": "$$HOME",
        }
    }
    again = _record(recorder, call, answer)
    assert again["request"]["params"] == ["$hash1"]
    assert again["response"]["result"]["hash"] == "$hash1"
    assert again["response"]["result"]["next_cursor"] == "$cursor1"


def test_recorder_names_profiles_without_secrets() -> None:
    recorder = CheckedRecorder(default_login="alice")
    body = {"jsonrpc": "2.0", "id": 1, "method": "m"}
    answer = {"jsonrpc": "2.0", "id": 1, "result": True}
    bob = "basic " + base64.b64encode(b"bob:pw").decode()
    assert _record(recorder, body, answer, authorization=bob)["auth"] == "bob"
    assert _record(recorder, body, answer, authorization=None)["auth"] is None
    failed = _record(recorder, body, {"error": "x"}, status=401, answer_headers={"A": "b"})
    assert failed["auth"] == {"header": INVALID_AUTHORIZATION}
    assert recorder.warnings == []
    keyed = _record(recorder, body, answer, authorization="Api-Key " + "a" * 100)
    assert "auth" not in keyed and "a" * 100 not in json.dumps(keyed)
    assert recorder.warnings == ["a non-Basic credential was recorded as the default profile"]


def test_recorder_keeps_protocol_oddities_raw() -> None:
    recorder = CheckedRecorder()
    incident = {"code": -32603, "message": "INTERNAL_ERROR", "data": {"incident": "ab12"}}
    crashed = _record(recorder, {"jsonrpc": "2.0", "id": 1, "method": "m"}, {"error": incident})
    # The answer does not carry the id: the request is kept as the raw document it was.
    assert crashed["request"] == {"json": {"jsonrpc": "2.0", "id": 1, "method": "m"}}
    assert crashed["response"]["error"]["data"]["incident"] == {"$match": "any"}
    typed = _record(recorder, b"{", {"error": 1}, content_type="application/json-rpc")
    assert typed["request"] == {"text": "{", "content_type": "application/json-rpc"}
    assert typed["name"] == "recorded #2: raw body"
    bare = _record(recorder, [1], [], content_type=None)
    assert bare["request"] == {"json": [1], "content_type": None}


def test_recorder_continues_the_numbering_of_an_existing_file() -> None:
    existing = dump({"request": {"method": "m"}, "response": {"$capture": "hash7"}})
    recorder = CheckedRecorder(existing=existing)
    body = {"jsonrpc": "2.0", "id": 1, "method": "sms.send"}
    line = _record(recorder, body, {"jsonrpc": "2.0", "id": 1, "result": "ZZZZ9999"})
    assert line["response"]["result"]["$capture"] == "hash8"


def test_recorder_lets_an_sms_and_a_job_move_on() -> None:
    """Recorded at their end, an SMS and an export job may be anywhere on their way at replay."""
    recorder = CheckedRecorder(default_login="alice")
    received = {
        "hash": "AB12CD34",
        "status": "RECEIVED",
        "status_error": "",
        "date_received": "2026-06-01 12:00:05",
        "status_history": [{"old_status": "SENT", "new_status": "RECEIVED"}],
    }
    done = {
        "hash": "JOB12345",
        "status": "DONE",
        "progress": {"done": 1, "total": 1},
        "result": {"url": "http://127.0.0.1:8080/exports/JOB12345.csv", "sha256": "ab"},
        "error": None,
    }
    call = {"jsonrpc": "2.0", "id": 1, "method": "m"}
    sms = _record(recorder, call, {"jsonrpc": "2.0", "id": 1, "result": received})["response"]
    job = _record(recorder, call, {"jsonrpc": "2.0", "id": 1, "result": done})["response"]
    sent = {
        "hash": "AB12CD34",
        "status": "SENT",
        "status_error": "",
        "date_received": "0000-00-00 00:00:00",
        "status_history": [],
    }
    pending = done | {"status": "PENDING", "progress": {"done": 0, "total": 0}, "result": None}
    assert match(sms, {"result": sent}, {}) == []
    assert match(job, {"result": pending}, {}) == []
    # A final status stays what it was: an SMS delivered then is not one that failed now.
    failed = match(sms, {"result": sent | {"status": "FAILED"}}, {})
    assert [difference.path for difference in failed] == ["$.result.status"]
    assert [d.path for d in match(job, {"result": pending | {"status": "ERROR"}}, {})] == [
        "$.result.status"
    ]


def test_recorder_counts_and_refers_only_to_written_lines() -> None:
    recorder = Recorder(default_login="alice")
    send = {"jsonrpc": "2.0", "id": 1, "method": "sms.send"}
    options: dict[str, Any] = {
        "authorization": None,
        "content_type": "application/json",
        "status": 200,
        "answer_headers": {},
    }
    lost = recorder.draft(
        body=json.dumps(send).encode(),
        answer=b'{"jsonrpc": "2.0", "id": 1, "result": "AB12CD34"}',
        **options,
    )
    assert lost.line["response"]["result"]["$capture"] == "hash1"
    get = {"jsonrpc": "2.0", "id": 2, "method": "sms.get", "params": ["AB12CD34"]}
    answer = b'{"jsonrpc": "2.0", "id": 2, "result": null}'
    kept = recorder.draft(body=json.dumps(get).encode(), answer=answer, **options)
    # The send's line never reached the file: a reference to its capture would not parse.
    assert kept.line["request"]["params"] == ["AB12CD34"]
    assert kept.line["name"] == "recorded #1: sms.get" and recorder.count == 0
    recorder.written(kept)
    assert recorder.count == 1


def test_a_lone_surrogate_is_recorded_as_its_escape() -> None:
    recorder = CheckedRecorder()
    call = {"jsonrpc": "2.0", "id": 1, "method": "m", "params": ["\ud800"]}
    line = _record(recorder, call, {"jsonrpc": "2.0", "id": 1, "result": "\udfff"})
    assert line["request"]["params"] == ["\ud800"] and line["response"]["result"] == "\udfff"
    assert "\\ud800" in recorder.text and "\\udfff" in recorder.text
    recorder.text.encode("utf-8")  # what the proxy writes to the file
