"""The `sms-gateway` command: accounts on a real file, and `serve` as a real process."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.helpers import REPO_ROOT, free_port

CLI = [sys.executable, "-m", "gateway"]


def _run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args, "--config", str(REPO_ROOT / "config.toml"), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_accounts_create_prints_one_json_line_and_list_shows_it(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    created = _run("accounts", "create", "bob", "--password", "pw", db=db)
    assert created.returncode == 0, created.stderr
    line = json.loads(created.stdout)
    assert line["login"] == "bob" and len(line["api_key"]) == 100
    assert created.stdout.count("\n") == 1
    again = _run("accounts", "create", "bob", "--password", "pw", db=db)
    assert again.returncode == 1 and "DUPLICATE_LOGIN" in again.stderr
    listed = _run("accounts", "list", db=db)
    assert [json.loads(row)["login"] for row in listed.stdout.splitlines()] == ["bob"]


def test_serve_answers_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    api_key = json.loads(_run("accounts", "create", "carol", "--password", "pw", db=db).stdout)[
        "api_key"
    ]
    port = free_port()
    server = subprocess.Popen(
        [
            *CLI,
            "serve",
            "--config",
            str(REPO_ROOT / "config.toml"),
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        call = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "sms.send",
                "params": ["SMS", "+33612345678", "hi", None],
            }
        ).encode()
        request = urllib.request.Request(
            f"{base}/json-rpc/v1.1/",
            data=call,
            headers={"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json-rpc"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert len(json.loads(response.read())["result"]) == 8
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output


def test_operators_add_numbers_and_approve_senders(tmp_path: Path) -> None:
    db = tmp_path / "ops.db"
    assert _run("accounts", "create", "dana", "--password", "pw", db=db).returncode == 0
    added = _run("numbers", "add", "dana", "+33612000042", "--label", "desk", db=db)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) == {
        "login": "dana",
        "number": "+33612000042",
        "sms_enabled": True,
    }
    taken = _run("numbers", "add", "dana", "+33612000042", db=db)
    assert taken.returncode == 1 and "PROPERTY_VALUE_ERROR [number]" in taken.stderr
    malformed = _run("numbers", "add", "dana", "+0612", db=db)
    assert malformed.returncode == 1 and "INVALID_PARAM_FORMAT [number]" in malformed.stderr
    unknown = _run("numbers", "add", "nobody", "+33612000043", db=db)
    assert unknown.returncode == 1 and "PROPERTY_VALUE_ERROR [login]" in unknown.stderr
    senders = _run("accounts", "senders", "dana", "--allow", "Bakery", "--allow", "Shop", db=db)
    assert json.loads(senders.stdout)["approved_senders"] == ["Bakery", "Shop"]
    fewer = _run("accounts", "senders", "dana", "--remove", "Shop", db=db)
    assert json.loads(fewer.stdout)["approved_senders"] == ["Bakery"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=60, check=False, cwd=cwd
    )


def test_configuration_and_database_problems_are_one_line_errors(tmp_path: Path) -> None:
    config = str(REPO_ROOT / "config.toml")
    (tmp_path / "broken.toml").write_text("[server\n")
    (tmp_path / "wrong.toml").write_text('[server]\nport = "eighty"\n')
    (tmp_path / "not-a-database.db").write_text("plain text")
    (tmp_path / "a-folder").mkdir()
    for args, code, message in (
        (["serve", "--config", "missing.toml"], 2, "error: missing.toml: No such file"),
        (["serve", "--config", "broken.toml"], 2, "error: broken.toml: not TOML: "),
        (["serve", "--config", "wrong.toml"], 2, "error: wrong.toml: server.port: "),
        (["serve", "--config", config, "--port", "70000"], 2, "server.port: "),
        (
            ["accounts", "list", "--config", config, "--db", "not-a-database.db"],
            1,
            "error: cannot open the database not-a-database.db: file is not a database",
        ),
        (
            ["serve", "--config", config, "--db", "a-folder"],
            1,
            "error: cannot open the database a-folder: ",
        ),
    ):
        result = _cli(*args, cwd=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_serve_on_a_taken_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = _cli(
            "serve",
            "--config",
            str(REPO_ROOT / "config.toml"),
            "--db",
            "g.db",
            "--port",
            port,
            cwd=tmp_path,
        )
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}: " in result.stderr
    assert "Traceback" not in result.stderr
