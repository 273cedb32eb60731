"""Only the teacher drives a teaching session: a real uvicorn server and real WebSocket clients; a page of
another site (a foreign Origin), a DNS-rebinding page (a foreign Host) and a client without the session's
token are refused, and nothing they send is recorded."""

import http.client
import json
import logging
import socket
import threading
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from babyai.teach.data import read_csv
from babyai.teach.server import bind, serve
from tests.test_teach import make_session


@pytest.fixture
def server(tmp_path):
    """A human-teacher session served on a free port; yields (port, token, csv path)."""
    session = make_session(tmp_path)
    session.snapshots.store = SimpleNamespace(versions=lambda: [0])  # what the page shows as the newest
    sock = bind("127.0.0.1", 0)
    urls = []
    thread = threading.Thread(target=serve, args=(session, sock, None, urls.append), daemon=True)
    thread.start()
    while not urls and thread.is_alive():
        thread.join(0.05)
    url = urlparse(urls[0])
    port, token = url.port, parse_qs(url.query).get("token", [""])[0]
    yield port, token, str(tmp_path / "teaching.csv")
    if thread.is_alive():  # the test failed before ending the session
        with teacher(port, token) as ws:
            ws.send(json.dumps({"type": "end"}))
        thread.join(30)
    sock.close()


def teacher(port, token):
    return connect(f"ws://127.0.0.1:{port}/ws?token={token}", origin=f"http://127.0.0.1:{port}", open_timeout=10)


def attempt(port, origin, token=None, host=None):
    """Connect as given and send an approve: 'accepted', 'handshake <status>' or 'closed <code>'."""
    query = "" if token is None else f"?token={token}"
    sock = socket.create_connection(("127.0.0.1", port))  # a rebinding page's name resolves to 127.0.0.1
    try:
        with connect(f"ws://{host or f'127.0.0.1:{port}'}/ws{query}", sock=sock, origin=origin,
                     open_timeout=10) as ws:
            ws.send(json.dumps({"type": "approve"}))
            ws.recv(timeout=10)
            ws.recv(timeout=10)  # the state after the approved step
            return "accepted"
    except InvalidStatus as e:
        return f"handshake {e.response.status_code}"
    except ConnectionClosed as e:
        return f"closed {e.rcvd.code if e.rcvd else None}"


def test_only_the_pages_own_origin_with_its_token_drives_the_session(server, caplog):
    port, token, csv_path = server
    own = f"http://127.0.0.1:{port}"
    with caplog.at_level(logging.WARNING, logger="babyai.teach.server"):
        assert attempt(port, "http://evil.example.com", token) == "handshake 403"
        assert attempt(port, None, token) == "handshake 403"  # no Origin at all
        assert attempt(port, f"http://evil.example.com:{port}", token,  # DNS rebinding: the attacker's own origin
                       host=f"evil.example.com:{port}") == "handshake 403"
        assert attempt(port, own, token, host=f"evil.example.com:{port}") == "handshake 403"
        assert attempt(port, own) == "closed 1008"  # the page opened without its token
        assert attempt(port, own, token[:-1] + ("A" if token[-1] != "A" else "B")) == "closed 1008"
        assert attempt(port, own, token + "é") == "closed 1008"
    refusals = [r.getMessage() for r in caplog.records if r.name == "babyai.teach.server"]
    assert len(refusals) == 7 and all(m.startswith("refused a WebSocket: ") for m in refusals)
    assert "Origin 'http://evil.example.com' is not the page's" in refusals[0]
    assert "Host 'evil.example.com:" in refusals[2] and "token" in refusals[4]

    # the page itself (localhost is the same server) drives it: none of the above made a step
    with connect(f"ws://localhost:{port}/ws?token={token}", origin=f"http://localhost:{port}") as ws:
        assert json.loads(ws.recv(timeout=30))["step"] == 0
        ws.send(json.dumps({"type": "approve"}))
        assert json.loads(ws.recv(timeout=30))["step"] == 1
    with teacher(port, token) as ws:
        ws.recv(timeout=30)
        ws.send(json.dumps({"type": "end"}))
        assert json.loads(ws.recv(timeout=30))["ended"]
    rows = read_csv(csv_path)
    assert len(rows) == 1 and rows[0]["steps"] == 1  # only the teacher's step is recorded


def test_a_rebinding_page_cannot_read_the_page(server):
    port = server[0]
    for host, status in ((f"evil.example.com:{port}", 400), (f"127.0.0.1:{port}", 200)):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/", headers={"Host": host})
        assert conn.getresponse().status == status
        conn.close()


def _handshake_then_close(port, token):
    """A tab that closes right after its WebSocket opens (before it reads the first state)."""
    import base64
    import os

    sock = socket.create_connection(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Origin: http://127.0.0.1:{port}\r\n\r\n").encode())
    sock.close()


def test_odd_clients_cost_one_log_line_each(server, caplog, capfd):
    """A tab closing before its first state, a message nested 100,000 deep, a 5 MB unknown word and a lone
    surrogate: one log line each (no ASGI traceback), a short reply, and the session goes on with the tab."""
    import time

    port, token, _ = server
    with caplog.at_level(logging.INFO, logger="babyai.teach.server"):
        _handshake_then_close(port, token)
        end = time.time() + 30
        while time.time() < end and not any("a page went away" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
        with teacher(port, token) as ws:
            ws.recv(timeout=30)
            ws.send("[" * 100_000 + "]" * 100_000)
            assert json.loads(ws.recv(timeout=30))["message"] == ""  # ignored: the state again
            ws.send(json.dumps({"type": "thought", "text": "go to " + "x" * 5_000_000}))
            reply = json.loads(ws.recv(timeout=60))
            assert reply["message"].startswith("thought refused: not in the agent's vocabulary: xxxx")
            assert len(reply["message"]) < 200
            ws.send('{"type": "thought", "text": "go to \\ud800"}')  # a lone surrogate: refused, the tab stays
            assert json.loads(ws.recv(timeout=30))["message"] == ""
            ws.send(json.dumps({"type": "approve"}))
            assert json.loads(ws.recv(timeout=30))["step"] == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "babyai.teach.server"]
    assert messages[0].startswith("a page went away")
    assert sum(m.startswith("refused a message nested too deeply") for m in messages) == 1
    assert sum(m.startswith("refused a message that is not valid Unicode") for m in messages) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception in ASGI application" not in err
