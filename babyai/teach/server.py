"""The teaching page's server: a local FastAPI app served by uvicorn, one WebSocket for the session.

``GET /`` serves the page (plain HTML/JS/CSS in ``babyai/teach/static/``, no build step); the page talks
over ``/ws``: the server sends the session's state after every change (the level as minigrid renders it
with the agent's view highlighted, the mission, the agent's thought and proposed action, the snapshot,
the per-episode curves), the page sends the teacher's moves::

    {"type": "approve"}                       perform the proposed action
    {"type": "action", "action": "left"}      override it (left right forward pickup drop toggle done)
    {"type": "thought", "text": "..."}        rewrite the thought (refused: a message naming unknown words)
    {"type": "pause"} {"type": "reset"} {"type": "end"}

Anything else is ignored. The session lives in the server, so a closed tab loses nothing: reopening
the page continues the episode where it was.

Only the teacher drives the session: the server prints the page's URL with a random per-session token
(``http://127.0.0.1:PORT/?token=...``, as notebook servers do), the page passes it on ``/ws``, and a
WebSocket is accepted only from the page's own origin, with an expected Host header (no other site, no
DNS rebinding) and that token. Others are refused with a policy-violation close, logged on one line.
"""


import asyncio
import base64
import errno
import hmac
import io
import json
import logging
import secrets
import socket
import threading
from importlib import resources

from babyai.errors import disk_full
from babyai.teach.session import ACTION_NAMES, TeachingSession, ThoughtRefused

logger = logging.getLogger(__name__)
POLICY_VIOLATION = 1008  # the WebSocket close code of a refused connection
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
KEYS = {" ": "approve", "ArrowLeft": "left", "ArrowRight": "right", "ArrowUp": "forward", "p": "pickup",
        "d": "drop", "t": "toggle", "e": "done"}


class ServerError(OSError):
    """The page cannot be served (one line for the user)."""


class PortInUse(ServerError):
    pass


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (a one-line error when the port is taken or the server is missing)."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise ServerError(f"the teaching page needs {e.name}: pip install -e '.[teach]' (or use --teacher oracle)") from None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a listener still fails; a closed one's TIME_WAIT not
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} is in use on {host}: stop what uses it or pass another --port") from None
        raise PortInUse(f"cannot listen on {host}:{port}: {e.strerror}") from None
    sock.listen(16)
    sock.set_inheritable(True)
    return sock


class Guard:
    """Who may drive the session: the page's own origin, the host names it is served under, the token."""

    def __init__(self, host: str, port: int, token: str | None = None):
        names = {host, *LOOPBACK_NAMES} if host in LOOPBACK_NAMES else {host}
        self.hosts = {f"{name}:{port}" for name in names} | (names if port == 80 else set())
        self.origins = {f"http://{h}" for h in self.hosts}
        self.token = token or secrets.token_urlsafe(24)

    def foreign(self, headers) -> str:
        """Why a request comes from elsewhere than the page ("" when it does not)."""
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            return f"Host {host[:80]!r} is not the page's"
        origin = headers.get("origin", "").lower()
        if origin not in self.origins:
            return f"Origin {origin[:80]!r} is not the page's"
        return ""

    def token_ok(self, token: str | None) -> bool:
        return hmac.compare_digest((token or "").encode(), self.token.encode())


def png_data_url(frame) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class Controller:
    """The session behind a lock, the teacher's moves, and the state the page shows."""

    def __init__(self, session: TeachingSession, trainer=None):
        self.session, self.trainer = session, trainer
        self.lock = threading.Lock()
        self.paused = False
        self.on_end = None  # called once the session has ended
        self.error = None  # the full disk that ended it

    def handle(self, msg: dict) -> str:
        """Apply one message from the page; returns a message for the teacher ("" when none). A full disk
        ends the session (the episodes before are saved); ``serve`` then raises it."""
        try:
            return self._handle(msg)
        except OSError as error:
            if not disk_full(error):
                raise
            with self.lock:
                self.error = error
                self.session.end(keep_unfinished=False)  # nothing more can be saved
            return "the disk is full: the session ended (the episodes before this one are saved)"

    def _handle(self, msg: dict) -> str:
        kind = msg.get("type") if isinstance(msg, dict) else None
        with self.lock:
            s = self.session
            if s.ended:
                return "the session has ended"
            if kind == "pause":
                self.paused = not self.paused
                return "paused: press Resume to go on" if self.paused else ""
            if kind == "end":
                s.end(keep_unfinished=True)
                return "session ended: every step is saved"
            if kind not in ("approve", "action", "thought", "reset"):
                return ""  # unknown messages are ignored
            if self.paused:
                return "paused: press Resume to go on"
            if kind == "reset":
                s.reset_level()
                return "level reset: the steps so far are saved"
            if kind == "thought":
                try:
                    s.rewrite_thought(str(msg.get("text", "")))
                except ThoughtRefused as e:
                    return f"thought refused: {e}"
                return ""
            if kind == "action" and msg.get("action") not in ACTION_NAMES:
                return ""  # an unknown action is ignored
            s.act(None if kind == "approve" else ACTION_NAMES.index(msg["action"]))
            return "session ended: every step is saved" if s.ended else ""

    def state(self) -> dict:
        with self.lock:
            s, ep, prop = self.session, self.session.episode, self.session.proposal
            out = {"ended": s.ended, "paused": self.paused, "episode": s.writer.num_episodes,
                   "episodes": s.episodes, "curves": list(s.writer.rows), "keys": KEYS,
                   "trainer_alive": self.trainer is None or self.trainer.proc.is_alive(),
                   "latest_snapshot": (s.snapshots.store.versions() or [0])[-1]}
            if ep is not None and prop is not None:
                out.update(mission=ep.mission, seed=ep.seed, step=len(ep.steps), snapshot=ep.snapshot,
                           thought=prop.thought, acting_thought=prop.acting_thought, rewritten=prop.rewritten,
                           action=ACTION_NAMES[prop.action], thinks=s.thinks, frame=png_data_url(s.frame()))
            return out


def parse_message(text: str):
    """A page's message as JSON (None when it is not JSON; one log line when it is nested too deeply to read or
    holds a lone surrogate, which no reply could carry back)."""
    try:
        msg = json.loads(text)
        json.dumps(msg, ensure_ascii=False).encode("utf-8")
        return msg
    except UnicodeEncodeError:
        logger.warning("refused a message that is not valid Unicode (a lone surrogate)")
    except ValueError:
        pass
    except RecursionError:
        logger.warning("refused a message nested too deeply to read (%d characters)", len(text))
    return None


def create_app(controller: Controller, guard: Guard):
    from fastapi import FastAPI, WebSocket, WebSocketDisconnect
    from fastapi.responses import Response
    from starlette.concurrency import run_in_threadpool

    app = FastAPI(title="Thought Cloning: teach the agent")
    static = resources.files("babyai.teach") / "static"
    types = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
    clients: set = set()

    @app.middleware("http")
    async def known_host(request, call_next):  # a DNS-rebinding page reads nothing
        if request.headers.get("host", "").lower() not in guard.hosts:
            return Response("unknown host", status_code=400)
        return await call_next(request)

    @app.get("/")
    def index():
        return Response((static / "index.html").read_bytes(), media_type="text/html")

    @app.get("/static/{name}")
    def asset(name: str):
        ext = name[name.rfind("."):] if "." in name else ""
        path = static / name
        if "/" in name or ext not in types or not path.is_file():
            return Response("not found", status_code=404)
        return Response(path.read_bytes(), media_type=types[ext])

    async def broadcast(message: str, origin) -> None:
        state = await run_in_threadpool(controller.state)
        for ws in list(clients):
            try:
                await ws.send_json({**state, "message": message if ws is origin else ""})
            except Exception as error:  # a tab that went away (whatever the server's WebSocket raised)
                logger.info("a page went away (%s)", type(error).__name__)
                clients.discard(ws)

    @app.websocket("/ws")
    async def session_socket(ws: WebSocket):
        why = guard.foreign(ws.headers)
        if why:  # another site's page: the handshake is refused
            logger.warning("refused a WebSocket: %s", why)
            await ws.close(code=POLICY_VIOLATION)
            return
        await ws.accept()
        if not guard.token_ok(ws.query_params.get("token")):  # the page, opened without its token: told so
            logger.warning("refused a WebSocket: missing or wrong token")
            await ws.close(code=POLICY_VIOLATION, reason="wrong or missing token: open the URL teach.py printed")
            return
        clients.add(ws)
        await broadcast("", ws)
        try:
            while ws in clients:  # until it goes away
                try:
                    msg = parse_message(await ws.receive_text())
                except KeyError:  # a binary frame: ignored
                    continue
                message = await run_in_threadpool(controller.handle, msg)
                await broadcast(message, ws)
                if controller.session.ended and controller.on_end is not None:
                    await asyncio.sleep(0.2)  # let the last state reach the pages
                    controller.on_end()
        except WebSocketDisconnect:
            pass
        finally:
            clients.discard(ws)

    return app


def serve(session: TeachingSession, sock: socket.socket, trainer=None, on_ready=None) -> None:
    """Serve the page on ``sock`` until the session ends (the End button, --episodes, or Ctrl-C)."""
    import uvicorn

    controller = Controller(session, trainer)
    host, port = sock.getsockname()[:2]
    guard = Guard(host, port)
    config = uvicorn.Config(create_app(controller, guard), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    controller.on_end = lambda: setattr(server, "should_exit", True)
    url = f"http://{host}:{port}/?token={guard.token}"
    print(f"teaching page: {url}  (Ctrl-C or the End button ends the session)", flush=True)
    if on_ready is not None:
        on_ready(url)
    server.run(sockets=[sock])
    if controller.error is not None:
        raise controller.error
