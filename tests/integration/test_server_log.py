"""What a real `sms-gateway serve` writes to its log about requests it cannot parse."""

import base64
import signal
import socket
from pathlib import Path

from tests.helpers import create_account, free_port, gateway_config, start_gateway

PASSWORD = "S3cret-pw"


def _send(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        return connection.recv(65536)


def test_a_malformed_request_leaves_no_credential_and_no_traceback_in_the_log(
    tmp_path: Path,
) -> None:
    config = gateway_config(tmp_path, {"dispatch = true": "dispatch = false"})
    db, log = tmp_path / "gateway.db", tmp_path / "server.log"
    create_account(config, db, "alice", PASSWORD)
    credential = base64.b64encode(f"alice:{PASSWORD}".encode())
    port = free_port()
    server = start_gateway(config, db, port, tmp_path, log)
    try:
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "sms.get", "params": ["AAAAAAAA"]}'
        for authorization in (
            b"Basic " + credential + b"\x7f",  # a byte no header may hold
            b"Basic " + credential + b" " * 8200,  # a line longer than aiohttp reads
        ):
            answer = _send(
                port,
                b"POST /json-rpc/v1.1/ HTTP/1.1\r\nHost: gateway\r\nAuthorization: "
                + authorization
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body,
            )
            assert answer.startswith(b"HTTP/1.0 400 ") or answer.startswith(b"HTTP/1.1 400 ")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    text = log.read_text()
    assert "malformed or broken-off request: BadHttpMessage" in text
    assert "malformed or broken-off request: LineTooLong" in text
    assert credential.decode() not in text and PASSWORD not in text
    assert "Traceback" not in text
