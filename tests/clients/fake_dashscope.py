"""A loopback fake of the DashScope HTTP API, driven by a script of planned outcomes.

It speaks just enough of the service for the real SDKs to talk to it:

- native ``POST /api/v1/services/aigc/text-generation/generation``: JSON answers, and SSE
  streams (``X-DashScope-SSE: enable``) made of ``id:`` / ``event:result|error`` /
  ``:HTTP_STATUS/<n>`` / ``data:{...}`` frames, including errors that arrive after some chunks
  on an HTTP 200 response (the true status is then only in the ``:HTTP_STATUS/`` comment);
- OpenAI-compatible ``POST /compatible-mode/v1/chat/completions``: JSON answers, ``data:`` chunk
  streams, and error bodies ``{"error": {...}, "id": "chatcmpl-<rid>", "request_id": "<rid>"}``
  with the compatible-mode (snake_case) codes.

Every answered request is recorded (:class:`Answered`): that record is the truth the tests
compare the parsed logs with. Nothing here is random except the request ids (uuid4).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NATIVE_PATH = "/api/v1/services/aigc/text-generation/generation"
COMPAT_PATH = "/compatible-mode/v1/chat/completions"

#: native code -> compatible-mode code (what /compatible-mode/v1 sends in ``error.code``).
#: Codes missing here keep their native name on the compatible endpoint (e.g. ``Arrearage``).
COMPAT_CODES: dict[str, str] = {
    "Throttling.RateQuota": "limit_requests",
    "Throttling.AllocationQuota": "insufficient_quota",
    "InvalidApiKey": "invalid_api_key",
    "InvalidParameter": "invalid_parameter_error",
    "DataInspectionFailed": "data_inspection_failed",
    "InternalError": "internal_error",
}

#: compatible-mode ``error.type`` per compat code (as the service sends them).
COMPAT_TYPES: dict[str, str] = {
    "limit_requests": "limit_requests",
    "insufficient_quota": "insufficient_quota",
    "invalid_api_key": "invalid_request_error",
    "invalid_parameter_error": "invalid_request_error",
    "data_inspection_failed": "data_inspection_failed",
    "internal_error": "internal_error",
    "Arrearage": "Arrearage",
}

#: native messages (native endpoint) and compatible-mode messages, per native code.
NATIVE_MESSAGES: dict[str, str] = {
    "Throttling.RateQuota": "Requests rate limit exceeded, please try again later.",
    "Throttling.AllocationQuota": "Allocated quota exceeded, please increase your quota limit.",
    "InvalidApiKey": "Invalid API-key provided.",
    "InvalidParameter": "Range of input length should be [1, 30720]",
    "DataInspectionFailed": "Input data may contain inappropriate content.",
    "InternalError": (
        "An internal error has occured, please try again later or contact service support."
    ),
    "ModelUnavailable": "Model is unavailable, please try again later.",
    "Arrearage": "Access denied, plesase make sure your account is in good standing.",
}
COMPAT_MESSAGES: dict[str, str] = {
    "Throttling.RateQuota": "You exceeded your current requests list.",
    "Throttling.AllocationQuota": (
        "You exceeded your current quota, please check your plan and billing details."
    ),
    "InvalidApiKey": "Incorrect API key provided. ",
    "InvalidParameter": "<400> InternalError.Algo.InvalidParameter: Range of input length "
    "should be [1, 30720]",
    "DataInspectionFailed": "<400> InternalError.Algo.DataInspectionFailed: Input data may "
    "contain inappropriate content. For details, see: "
    "https://help.aliyun.com/zh/model-studio/error-code#inappropriate-content",
    "InternalError": "An internal error has occured, please try again later or contact "
    "service support.",
    "Arrearage": "Access denied, please make sure your account is in good standing. For "
    "details, see: https://help.aliyun.com/zh/model-studio/error-code#overdue-payment",
}

REASONS = {s.value: s.phrase for s in HTTPStatus}


@dataclass(frozen=True)
class Outcome:
    """One planned answer. ``status == 200`` with no ``code`` is a success.

    ``mid_stream`` (streamed requests only): the HTTP status is 200 and the error arrives as an
    ``event:error`` frame after ``chunks`` result frames (``chunks`` may be 0).
    """

    status: int = 200
    code: str | None = None
    message: str | None = None
    mid_stream: bool = False
    chunks: int = 2

    @property
    def is_error(self) -> bool:
        return self.status != 200 or self.code is not None


OK = Outcome()


def err(status: int, code: str, *, mid_stream: bool = False, chunks: int = 2) -> Outcome:
    return Outcome(status=status, code=code, mid_stream=mid_stream, chunks=chunks)


@dataclass
class Answered:
    """The server's record of one answered request (the truth)."""

    seq: int
    api: str  # "native" | "compat"
    path: str
    request_id: str
    status: int  # true status of the outcome
    http_status: int  # status line actually sent (200 for mid-stream errors)
    code: str | None  # native code (None on success)
    wire_code: str | None  # code as sent on the wire (compat code on /compatible-mode)
    message: str | None
    streamed: bool
    mid_stream: bool
    is_error: bool
    model: str | None
    time: float = field(default=0.0)  # epoch seconds when the answer started

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FakeDashScope:
    """Loopback server; ``plan()`` queues outcomes, ``answered`` is the record."""

    def __init__(self) -> None:
        self._queue: deque[Outcome] = deque()
        self._lock = threading.Lock()
        self.answered: list[Answered] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="fake-dashscope", daemon=True
        )

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeDashScope:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeDashScope:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def native_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    @property
    def compat_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/compatible-mode/v1"

    # script --------------------------------------------------------------------------------
    def plan(self, outcomes: list[Outcome]) -> None:
        """Replace the queue of outcomes and clear the record. Requests beyond it succeed."""
        with self._lock:
            self._queue = deque(outcomes)
            self.answered = []

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _next(self) -> Outcome:
        with self._lock:
            return self._queue.popleft() if self._queue else OK

    def _record(self, rec: Answered) -> None:
        with self._lock:
            rec.seq = len(self.answered)
            self.answered.append(rec)


def _make_handler(server: FakeDashScope) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16  # headers and body in one write (no Nagle/delayed-ACK stalls)
        server_version = "fake-dashscope"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the apps' logs are what the tests look at."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            path = self.path.split("?", 1)[0]
            if path == NATIVE_PATH:
                self._native(body)
            elif path == COMPAT_PATH:
                self._compat(body)
            else:
                self._send(404, "application/json", b'{"code":"NotFound","message":"no route"}')

        # helpers ---------------------------------------------------------------------------
        def _headers(self, status: int, ctype: str, rid: str, *, length: int | None) -> None:
            self.send_response(status, REASONS.get(status, ""))
            self.send_header("Content-Type", ctype)
            self.send_header("x-request-id", rid)
            self.send_header("x-dashscope-request-id", rid)
            now_ms = int(time.time() * 1000)
            self.send_header("req-arrive-time", str(now_ms))
            self.send_header("resp-start-time", str(now_ms))
            self.send_header("req-cost-time", "3")
            if status == 429 or status >= 500:
                # fast client retries (openai honours retry-after-ms first)
                self.send_header("retry-after-ms", "10")
            if length is None:
                self.send_header("Connection", "close")
            else:
                self.send_header("Content-Length", str(length))
            self.end_headers()

        def _send(self, status: int, ctype: str, payload: bytes, rid: str = "") -> None:
            self._headers(status, ctype, rid, length=len(payload))
            self.wfile.write(payload)

        def _stream(self, status: int, rid: str, frames: list[str]) -> None:
            self._headers(status, "text/event-stream;charset=UTF-8", rid, length=None)
            for frame in frames:
                self.wfile.write(frame.encode("utf-8"))
                self.wfile.flush()
            self.close_connection = True

        def _record(
            self,
            api: str,
            rid: str,
            outcome: Outcome,
            *,
            http_status: int,
            streamed: bool,
            wire_code: str | None,
            message: str | None,
            model: str | None,
            t0: float,
        ) -> None:
            server._record(
                Answered(
                    seq=-1,
                    api=api,
                    path=self.path,
                    request_id=rid,
                    status=outcome.status,
                    http_status=http_status,
                    code=outcome.code,
                    wire_code=wire_code,
                    message=message,
                    streamed=streamed,
                    mid_stream=outcome.mid_stream and streamed,
                    is_error=outcome.is_error,
                    model=model,
                    time=t0,
                )
            )

        # native ----------------------------------------------------------------------------
        def _native(self, body: dict[str, Any]) -> None:
            t0 = time.time()
            outcome = server._next()
            rid = str(uuid.uuid4())
            model = body.get("model")
            params = body.get("parameters") or {}
            streamed = (self.headers.get("X-DashScope-SSE") or "").lower() == "enable" or bool(
                params.get("stream") or body.get("stream")
            )
            as_message = params.get("result_format") == "message"
            text = "你好！我是通义千问。"
            pieces = [text[:3], text[3:6], text[6:]]

            def output(piece: str, finish: str) -> dict[str, Any]:
                if as_message:
                    return {
                        "choices": [
                            {
                                "finish_reason": finish,
                                "message": {"role": "assistant", "content": piece},
                            }
                        ]
                    }
                return {"text": piece, "finish_reason": finish}

            usage = {"input_tokens": 12, "output_tokens": 9, "total_tokens": 21}
            message = None
            if outcome.is_error:
                message = outcome.message or NATIVE_MESSAGES.get(outcome.code or "", "error")
            err_data = {"code": outcome.code, "message": message, "request_id": rid}

            if not streamed:
                # record first: the client may exit as soon as it has read the answer
                self._record(
                    "native",
                    rid,
                    outcome,
                    http_status=outcome.status,
                    streamed=False,
                    wire_code=outcome.code,
                    message=message,
                    model=model,
                    t0=t0,
                )
                if outcome.is_error:
                    payload = json.dumps(err_data, ensure_ascii=False).encode()
                    self._send(outcome.status, "application/json", payload, rid)
                else:
                    payload = json.dumps(
                        {"output": output(text, "stop"), "usage": usage, "request_id": rid},
                        ensure_ascii=False,
                    ).encode()
                    self._send(200, "application/json", payload, rid)
                return

            frames: list[str] = []

            def result(i: int, piece: str, finish: str) -> str:
                data = {"output": output(piece, finish), "usage": usage, "request_id": rid}
                return (
                    f"id:{i}\nevent:result\n:HTTP_STATUS/200\n"
                    f"data:{json.dumps(data, ensure_ascii=False)}\n\n"
                )

            def error(i: int) -> str:
                return (
                    f"id:{i}\nevent:error\n:HTTP_STATUS/{outcome.status}\n"
                    f"data:{json.dumps(err_data, ensure_ascii=False)}\n\n"
                )

            if not outcome.is_error:
                for i, piece in enumerate(pieces, 1):
                    frames.append(result(i, piece, "stop" if i == len(pieces) else "null"))
                http_status = 200
            elif outcome.mid_stream:
                n = min(outcome.chunks, len(pieces))
                for i in range(1, n + 1):
                    frames.append(result(i, pieces[i - 1], "null"))
                frames.append(error(n + 1))
                http_status = 200
            else:
                frames.append(error(1))
                http_status = outcome.status
            self._record(
                "native",
                rid,
                outcome,
                http_status=http_status,
                streamed=True,
                wire_code=outcome.code,
                message=message,
                model=model,
                t0=t0,
            )
            self._stream(http_status, rid, frames)

        # compatible mode -------------------------------------------------------------------
        def _compat(self, body: dict[str, Any]) -> None:
            t0 = time.time()
            outcome = server._next()
            rid = str(uuid.uuid4())
            model = body.get("model")
            streamed = bool(body.get("stream"))
            created = int(t0)
            content = "你好！我是通义千问。"
            if outcome.is_error:
                code = outcome.code or ""
                wire = COMPAT_CODES.get(code, code)
                message = outcome.message or COMPAT_MESSAGES.get(code) or NATIVE_MESSAGES[code]
                payload = json.dumps(
                    {
                        "error": {
                            "message": message,
                            "type": COMPAT_TYPES.get(wire, wire),
                            "param": None,
                            "code": wire,
                        },
                        "id": f"chatcmpl-{rid}",
                        "request_id": rid,
                    },
                    ensure_ascii=False,
                ).encode()
                self._record(
                    "compat",
                    rid,
                    outcome,
                    http_status=outcome.status,
                    streamed=streamed,
                    wire_code=wire,
                    message=message,
                    model=model,
                    t0=t0,
                )
                self._send(outcome.status, "application/json", payload, rid)
                return
            self._record(
                "compat",
                rid,
                outcome,
                http_status=200,
                streamed=streamed,
                wire_code=None,
                message=None,
                model=model,
                t0=t0,
            )
            cid = f"chatcmpl-{rid}"
            if streamed:
                frames = []
                pieces = [content[:3], content[3:]]
                for i, piece in enumerate(pieces):
                    last = i == len(pieces) - 1
                    chunk = {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"role": "assistant", "content": piece},
                                "finish_reason": "stop" if last else None,
                            }
                        ],
                    }
                    frames.append(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n")
                frames.append("data: [DONE]\n\n")
                self._stream(200, rid, frames)
            else:
                payload = json.dumps(
                    {
                        "id": cid,
                        "object": "chat.completion",
                        "created": created,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
                    },
                    ensure_ascii=False,
                ).encode()
                self._send(200, "application/json", payload, rid)

    return Handler
