"""A local stand-in for the Slack Web API, for tests.

Slack is unreachable from the test machines (only loopback networking is
allowed), yet the bot's Slack code paths -- posting and updating messages,
answering slash commands through ``response_url``, uploading plan files,
coping with rate limits -- need to be exercised with the real ``slack_sdk``
HTTP stack rather than with mocks.  ``SlackEmulator`` runs a small HTTP server
on 127.0.0.1 in a background thread, answers the Web API methods the bot uses
the way Slack does (HTTP 200 with ``{"ok": false, "error": ...}`` for logical
errors), records every call for assertions, and can inject HTTP 429/5xx
failures.

Usage::

    with SlackEmulator(valid_tokens={"xoxb-test"}) as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        client.chat_postMessage(channel="C123", text="hi")
        call = slack.wait_for("chat.postMessage")

Tokens are kept out of ``repr()`` and out of every message the emulator
produces.  If ``HTTP_PROXY``/``http_proxy`` is set, ``NO_PROXY`` must cover
127.0.0.1, since urllib (used by slack_sdk) honours those variables.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = ["RecordedCall", "SlackEmulator"]

TEAM_ID = "T0EMULATED"
TEAM_NAME = "Emulated Workspace"
TEAM_URL = "https://emulated-workspace.slack.com/"
BOT_USER_ID = "U0CHATOPSBOT"
BOT_USER_NAME = "chatops-bot"
BOT_ID = "B0CHATOPSBOT"
APP_ID = "A0CHATOPSAPP"

# Fields that slack_sdk JSON-encodes into a string when it sends a form body.
_JSON_FIELDS = frozenset(
    {"attachments", "blocks", "files", "metadata", "outputs", "unfurls", "user_auth_blocks", "view"}
)
_ARGS_PREVIEW_CHARS = 200

_Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass(frozen=True)
class RecordedCall:
    """One request received by the emulator.

    ``status`` is the HTTP status answered (200 unless a failure was injected);
    ``error`` is the Slack error code answered, if any (``None`` when ok).
    """

    method: str
    args: dict[str, Any]
    token: str | None = field(repr=False)
    at: float
    status: int = 200
    error: str | None = None

    def describe(self) -> str:
        """Return a one-line, token-free summary for failure messages."""
        args = repr(self.args)
        if len(args) > _ARGS_PREVIEW_CHARS:
            args = args[: _ARGS_PREVIEW_CHARS - 3] + "..."
        outcome = f"HTTP {self.status}" + (f" error={self.error}" if self.error else "")
        return f"{self.method} [{outcome}] {args}"


@dataclass(frozen=True)
class _PlannedFailure:
    status: int
    retry_after: int


@dataclass
class _Upload:
    filename: str
    length: int
    data: bytes | None = None


@dataclass
class _Request:
    """A parsed HTTP request, independent of the handler class."""

    path: str
    args: dict[str, Any]
    token: str | None
    raw_body: bytes
    body_error: str | None = None


class SlackEmulator:
    """Emulates the subset of the Slack Web API the bot uses; see module docs."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        valid_tokens: Iterable[str] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._valid_tokens = frozenset(valid_tokens) if valid_tokens is not None else None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[RecordedCall] = []
        self._failures: dict[str, deque[_PlannedFailure]] = {}
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}
        self._uploads: dict[str, _Upload] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._locales: dict[str, str] = {}
        self._ts_counter = itertools.count(1_700_000_000_000_100, 100)
        self._file_counter = itertools.count(1)
        self._server: _EmulatorServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackEmulator:
        """Bind the socket and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("SlackEmulator is already started")
        server = _EmulatorServer((self._host, self._port), _Handler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="slack-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and wait for its thread; safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._server is None:
            raise RuntimeError("SlackEmulator is not started")
        host, port = self._server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host_text}:{port}"

    @property
    def base_url(self) -> str:
        """Web API base URL, for ``WebClient(base_url=...)``."""
        return f"{self.root_url}/api/"

    def response_url(self, key: str) -> str:
        """A slash-command ``response_url``; POSTs to it are recorded as ``response_url``."""
        return f"{self.root_url}/response_url/{quote(key, safe='')}"

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[RecordedCall]:
        """Snapshot of every call received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The messages stored in a channel, oldest first, as ``conversations.history`` would
        give them (thread replies included, each with its ``thread_ts``)."""
        with self._lock:
            stored = self._messages.get(channel, {})
            return [dict(stored[ts]) for ts in sorted(stored, key=float)]

    def uploaded(self) -> dict[str, bytes]:
        """The content of each completed upload, by file name."""
        with self._lock:
            return {u.filename: u.data for u in self._uploads.values() if u.data is not None}

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Snapshot of the calls to one method, oldest first."""
        return [call for call in self.calls if call.method == method]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        timeout: float = 10.0,
    ) -> RecordedCall:
        """Block until a call to ``method`` matching ``predicate`` is recorded; return the earliest.

        Calls answered with an injected failure match too: filter on
        ``call.status`` in ``predicate`` if that matters.  Raises AssertionError
        listing the calls seen when ``timeout`` expires.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for call in self._calls:
                    if call.method == method and (predicate is None or predicate(call)):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = "\n".join(
                        f"  {i}. {call.describe()}" for i, call in enumerate(self._calls, 1)
                    )
                    which = "" if predicate is None else " matching the predicate"
                    raise AssertionError(
                        f"no call to {method}{which} within {timeout:g}s; "
                        f"{len(self._calls)} call(s) seen:\n{seen or '  (none)'}"
                    )
                self._changed.wait(remaining)

    # ------------------------------------------------------------------ control

    def fail_next(
        self, method: str, status: int = 429, *, times: int = 1, retry_after: int = 1
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status`` (429 or 5xx)."""
        if status != HTTPStatus.TOO_MANY_REQUESTS and not 500 <= status <= 599:
            raise ValueError(f"status must be 429 or 5xx, not {status}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if retry_after < 0:
            raise ValueError("retry_after must not be negative")
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.extend(_PlannedFailure(status, retry_after) for _ in range(times))

    def reset(self) -> None:
        """Forget calls, pending failures, stored messages and uploads."""
        with self._lock:
            self._calls.clear()
            self._failures.clear()
            self._messages.clear()
            self._uploads.clear()

    # ------------------------------------------------------------------ dispatch

    def _handle(self, request: _Request) -> tuple[int, bytes, dict[str, str]]:
        """Answer one request and record it; returns (status, body, headers)."""
        parts = request.path.split("/", 2)  # "", "api", "chat.postMessage"
        if len(parts) != 3 or parts[1] not in {"api", "upload", "response_url"} or not parts[2]:
            return _json_body(HTTPStatus.NOT_FOUND, {"ok": False, "error": "not_found"}, {})
        kind, name = parts[1], unquote(parts[2])
        args = dict(request.args)
        method = name if kind == "api" else kind
        if kind == "upload":
            args["file_id"] = name
        elif kind == "response_url":
            args["key"] = name
        with self._changed:
            status, payload, headers = self._answer(kind, method, args, request)
            error = payload.get("error")
            call = RecordedCall(
                method=method,
                args=args,
                token=request.token,
                at=time.monotonic(),
                status=status,
                error=error if isinstance(error, str) else None,
            )
            self._calls.append(call)
            self._changed.notify_all()
        if kind == "upload" and status == HTTPStatus.OK:
            text = f"OK - {args['size']}".encode()
            return status, text, {"Content-Type": "text/plain; charset=utf-8"}
        return _json_body(status, payload, headers)

    def _answer(self, kind: str, method: str, args: dict[str, Any], request: _Request) -> _Answer:
        """Compute the answer; called with the lock held. May add fields to ``args``."""
        queue = self._failures.get(method)
        if queue:
            failure = queue.popleft()
            if kind == "upload":
                args.update(_upload_args(request.raw_body))
            if failure.status == HTTPStatus.TOO_MANY_REQUESTS:
                headers = {"Retry-After": str(failure.retry_after)}
                return failure.status, {"ok": False, "error": "ratelimited"}, headers
            return failure.status, {"ok": False, "error": "internal_error"}, {}
        if kind == "upload":
            return self._receive_upload(args, request.raw_body)
        if request.body_error is not None:
            return 200, {"ok": False, "error": request.body_error}, {}
        if kind == "response_url":
            return 200, {"ok": True}, {}
        auth_error = self._auth_error(request.token)
        if auth_error is not None:
            return 200, {"ok": False, "error": auth_error}, {}
        handler = self._methods().get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        return 200, handler(args), {}

    def _auth_error(self, token: str | None) -> str | None:
        if self._valid_tokens is None:
            return None
        if not token:
            return "not_authed"
        if token not in self._valid_tokens:
            return "invalid_auth"
        return None

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _next_ts(self) -> str:
        micros = next(self._ts_counter)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # ------------------------------------------------------------------ methods

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": BOT_USER_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return _error("channel_not_found")
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return _error("no_text")
        too_big = _over_limits(args)
        if too_big:
            return _error(too_big)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": args.get("text") or "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "metadata", "thread_ts"):
            if args.get(key):
                message[key] = args[key]
        self._messages.setdefault(str(channel), {})[ts] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        if not channel:
            return _error("channel_not_found")
        message = self._messages.get(str(channel), {}).get(str(ts))
        if message is None:
            return _error("message_not_found")
        too_big = _over_limits(args)
        if too_big:
            return _error(too_big)
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return _error("no_text")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel"):
            return _error("channel_not_found")
        if not args.get("user"):
            return _error("user_not_found")
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return _error("no_text")
        return {"ok": True, "message_ts": self._next_ts()}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not channel:
            return _error("channel_not_found")
        channel = str(channel)
        return {
            "ok": True,
            "channel": {
                "id": channel,
                "name": f"channel-{channel.lower()}",
                "is_channel": channel.startswith("C"),
                "is_group": False,
                "is_im": channel.startswith("D"),
                "is_private": channel.startswith("G"),
                "is_archived": False,
                "is_member": True,
                "created": 1_700_000_000,
                "creator": BOT_USER_ID,
                "context_team_id": TEAM_ID,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
            },
        }

    def set_usergroup(self, usergroup: str, users: list[str]) -> None:
        """Define a Slack user group's members, as ``usergroups.users.list`` will answer."""
        with self._lock:
            self._usergroups[usergroup] = list(users)

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        # Method handlers already run under the emulator's lock.
        users = self._usergroups.get(str(args.get("usergroup", "")))
        if users is None:
            return _error("no_such_subteam")
        return {"ok": True, "users": users}

    def set_locale(self, user: str, locale: str) -> None:
        """A person's Slack language (``en-US``, ``zh-CN``…), as ``users.info`` with
        ``include_locale=true`` will answer; people not set here have ``en-US``."""
        with self._lock:
            self._locales[user] = locale

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user")
        if not user:
            return _error("user_not_found")
        user = str(user)
        is_bot = user == BOT_USER_ID
        name = BOT_USER_NAME if is_bot else f"user-{user.lower()}"
        answer: dict[str, Any] = {
            "id": user,
            "team_id": TEAM_ID,
            "name": name,
            "real_name": name,
            "deleted": False,
            "is_bot": is_bot,
            "is_admin": False,
            "tz": "Etc/UTC",
            "tz_offset": 0,
            "profile": {"real_name": name, "display_name": name, "team": TEAM_ID},
        }
        # Slack says the locale only when asked for it.
        if str(args.get("include_locale", "")).lower() in ("1", "true"):
            answer["locale"] = self._locales.get(user, "en-US")
        return {"ok": True, "user": answer}

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = args.get("filename")
        try:
            length = int(args.get("length", ""))
        except (TypeError, ValueError):
            return _error("invalid_arguments")
        if not filename or length < 0:
            return _error("invalid_arguments")
        file_id = f"F0EMU{next(self._file_counter):06d}"
        self._uploads[file_id] = _Upload(filename=str(filename), length=length)
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _receive_upload(self, args: dict[str, Any], body: bytes) -> _Answer:
        args.update(_upload_args(body))
        upload = self._uploads.get(str(args["file_id"]))
        if upload is None:
            return HTTPStatus.NOT_FOUND, {"ok": False, "error": "file_not_found"}, {}
        upload.data = body
        return 200, {"ok": True}, {}

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        answered = []
        for item in files:
            if not isinstance(item, dict):
                return _error("invalid_arguments")
            upload = self._uploads.get(str(item.get("id")))
            if upload is None or upload.data is None:
                return _error("file_not_found")
            answered.append({"id": item["id"], "title": item.get("title") or upload.filename})
        return {"ok": True, "files": answered}


# ---------------------------------------------------------------------- HTTP plumbing


class _EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    emulator: SlackEmulator


class _Handler(BaseHTTPRequestHandler):
    server_version = "SlackEmulator/1.0"

    def do_GET(self) -> None:
        self._respond()

    def do_POST(self) -> None:
        self._respond()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request lines could carry tokens in query strings."""

    def _respond(self) -> None:
        emulator = cast(_EmulatorServer, self.server).emulator
        try:
            status, body, headers = emulator._handle(self._parse())
        except Exception as exc:  # answer instead of dropping the connection
            payload = {"ok": False, "error": f"emulator_error: {type(exc).__name__}: {exc}"}
            status, body, headers = _json_body(HTTPStatus.INTERNAL_SERVER_ERROR, payload, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _parse(self) -> _Request:
        split = urlsplit(self.path)
        args: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        body_error = None
        if not split.path.startswith("/upload/") and raw:
            try:
                args.update(_parse_body(self.headers.get("Content-Type", ""), raw))
            except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
                is_json = "json" in self.headers.get("Content-Type", "")
                body_error = "invalid_json" if is_json else "invalid_form_data"
        token = None
        authorization = self.headers.get("Authorization", "")
        if authorization.lower().startswith("bearer "):
            token = authorization[len("bearer ") :].strip() or None
        arg_token = args.pop("token", None)
        if token is None and isinstance(arg_token, str) and arg_token:
            token = arg_token
        for key in _JSON_FIELDS & args.keys():
            args[key] = _maybe_json(args[key])
        return _Request(
            path=split.path, args=args, token=token, raw_body=raw, body_error=body_error
        )


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    """Decode a JSON, urlencoded or multipart request body into args."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        decoded = json.loads(raw.decode("utf-8"))
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        return decoded
    if media_type == "multipart/form-data":
        return _parse_multipart(content_type, raw)
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    """Decode multipart/form-data: file parts stay bytes, other parts become text."""
    parser = email.parser.BytesParser(policy=email.policy.HTTP)
    message = parser.parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    args: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        args[name] = data if part.get_filename() is not None else data.decode("utf-8", "replace")
    return args


def _maybe_json(value: Any) -> Any:
    """Decode a JSON-encoded string argument, leaving anything else untouched."""
    if isinstance(value, str) and value.lstrip()[:1] in {"[", "{"}:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _upload_args(body: bytes) -> dict[str, Any]:
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {"size": len(body), "content": body, "text": text}


#: Slack's documented message limits that the bot could plausibly hit.
MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3_000
MAX_CONTEXT_ELEMENTS = 10


def _over_limits(args: dict[str, Any]) -> str | None:
    """The error Slack answers for a message over its size limits, or None."""
    if len(str(args.get("text") or "")) > MAX_TEXT:
        return "msg_too_long"
    blocks = args.get("blocks") or []
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
        if block.get("type") == "section" and len(text) > MAX_SECTION_TEXT:
            return "invalid_blocks"
        if (
            block.get("type") == "context"
            and len(block.get("elements") or []) > MAX_CONTEXT_ELEMENTS
        ):
            return "invalid_blocks"
    return None


def _error(code: str) -> dict[str, Any]:
    return {"ok": False, "error": code}


def _json_body(
    status: int, payload: dict[str, Any], headers: dict[str, str]
) -> tuple[int, bytes, dict[str, str]]:
    all_headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    return status, json.dumps(payload).encode("utf-8"), all_headers
