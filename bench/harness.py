"""Load harness: servers as child processes on 127.0.0.1, load from wrk in a second process."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

REPO_ROOT = Path(__file__).resolve().parent.parent
RPC_PATH = "/json-rpc/v1.1/"


@dataclass(frozen=True)
class LoadResult:
    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s


def process_status_kib(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status in KiB, e.g. VmRSS (now) or VmHWM (peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers, whatever the status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def process(
    args: Sequence[str], ready_url: str, cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        wait_until_up(ready_url)
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)


@dataclass(frozen=True)
class Gateway:
    url: str
    db: Path
    pid: int


@contextmanager
def gateway(
    workdir: Path, db: Path | None = None, settings: dict[str, str] | None = None
) -> Iterator[Gateway]:
    """A real `sms-gateway serve` (on a fresh database unless `db` is given), run from
    `workdir` so that its relative paths (exports) land there. `settings` replaces lines of
    the shipped config.toml: {"key = old value": "key = new value"}."""
    port = free_port()
    db = db or workdir / f"bench-{port}.db"
    config = REPO_ROOT / "config.toml"
    if settings:
        text = config.read_text()
        for old, new in settings.items():
            if old not in text:
                raise ValueError(f"config.toml has no line {old!r}")
            text = text.replace(old, new)
        config = workdir / f"bench-{port}.toml"
        config.write_text(text)
    args = [sys.executable, "-m", "gateway", "serve", "--config", str(config), "--db", str(db)]
    url = f"http://127.0.0.1:{port}"
    with process([*args, "--port", str(port)], f"{url}/healthz", cwd=workdir) as child:
        yield Gateway(url, db, child.pid)


def create_account(db: Path, login: str, password: str) -> str:
    config = REPO_ROOT / "config.toml"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "accounts",
            "create",
            login,
            "--password",
            password,
            "--config",
            str(config),
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    api_key: str = json.loads(out.stdout)["api_key"]
    return api_key


_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json-rpc"
{auth}
local bodies = {{ {bodies} }}
local next_body = 0
request = function()
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %f %f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def run_wrk(
    url: str,
    bodies: Sequence[str],
    *,
    authorization: str | None = None,
    connections: int = 32,
    duration_s: int = 10,
) -> LoadResult:
    """Drive `url` with wrk (one thread, `connections` keep-alive connections)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("bench needs wrk on PATH (Debian/Ubuntu: apt-get install wrk)")
    auth = f'wrk.headers["Authorization"] = {_lua_string(authorization)}' if authorization else ""
    script = _LUA.format(auth=auth, bodies=", ".join(_lua_string(b) for b in bodies))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{duration_s}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests, duration_us, errors, p50_us, p99_us = match.groups()
    return LoadResult(
        requests=int(requests),
        duration_s=int(duration_us) / 1e6,
        p50_ms=float(p50_us) / 1000,
        p99_ms=float(p99_us) / 1000,
        errors=int(errors),
    )


def rpc_call(url: str, body: object, authorization: str) -> object:
    request = urllib.request.Request(
        url + RPC_PATH,
        data=json.dumps(body).encode(),
        headers={"Authorization": authorization, "Content-Type": "application/json-rpc"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` (a webhook receiver) on a free port of 127.0.0.1: its runner and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
