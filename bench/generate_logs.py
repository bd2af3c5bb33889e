"""Deterministic generator of realistic DashScope (Qwen / Model Studio) client logs.

    python bench/generate_logs.py --out sample_logs --profile samples
    python bench/generate_logs.py --out bench/data --profile bench --size 1GB --kind jsonl

The byte shapes follow ../shared/reference/client-log-formats.md: ``str(resp)`` / ``repr(resp)``
of the Python SDK, the quick-start line, the SDK's own ``Request: ... failed`` line, LangChain's
`` \\n `` separated errors and tenacity warnings, httpx / openai-python retry lines and tracebacks
with the Python repr of the compat body, Spring Boot + DashScope Java SDK ``ApiException`` (with the
``; status body:`` doubling), Spring AI and spring-ai-alibaba exceptions, Dify ``[tongyi]`` errors.

Every sample log gets a ground truth, ``tests/data/sample_truth/<log>.truth.jsonl``: one object per
API call outcome the log shows. Counting rules (what a careful human reading the log would count):

1. One outcome = one HTTP attempt against DashScope (or one attempt that got no response at all,
   e.g. a client timeout). Every retried attempt is its own outcome, whether the log shows it by
   an httpx line, an openai ``Retrying request`` line, a tenacity ``Retrying ... as it raised``
   warning, a Spring AI ``Retry error. Retry count:N`` warning, or a JSON record with an
   ``attempt`` key.
   Successful calls are outcomes too (``is_error`` false, ``code`` null).
2. Several records that describe the same attempt are ONE outcome, with ``mentions`` = number of
   separate log records (a record = a header line with its continuation lines: traceback, ``\\tat``
   frames, LangChain's `` \\n `` lines, blank lines inside chained tracebacks). The pairs are:
   SDK ``Request: <url> failed`` line + the app's line with ``str(resp)``; httpx ``HTTP Request``
   line + the openai ``Retrying request`` line that follows it; the last httpx line + the
   ``logger.exception`` record with the traceback; httpx 200 line + the app's ``completion ok``
   line; the final Spring AI ``Retry error`` warning + the app's ERROR record with the same
   requestId. An ERROR message and the traceback printed by the same ``logger.exception`` /
   ``log.error(msg, e)`` call are one record (mentions 1).
   A ``Retrying request`` line not preceded by an httpx line is an attempt that got no response.
3. ``line`` = 1-based line number of the first record that describes the outcome; ``timestamp``
   = that record's timestamp (naive timestamps are Asia/Shanghai, +08:00). Timestamps in the truth
   are written with +08:00; compare them as instants.
4. ``logged_status`` = the HTTP-ish status the log shows for this outcome (400 for mid-stream errors
   of the Python SDK, 200 for mid-stream errors of dashscope 2.x, -1 for the Java SDK's network
   errors), null if no record shows one. ``status_code`` = the true HTTP status: the logged one when
   it is a real HTTP status of this response, else the catalogue status of the code (mid-stream
   errors, spring-ai-alibaba ``DashScopeException`` which shows no status), null when neither
   exists (timeouts, -1 network errors).
5. ``code`` = the error code the log shows for this outcome, compat codes mapped to native ones
   (limit_requests -> Throttling.RateQuota, ...); null for successes, for records that show no
   code (httpx / Retrying lines, timeouts, gateway pages), and for the SDK placeholder ``Unknown``
   (non-JSON body). A client-side Java code (``network error``) is kept as shown.
6. ``request_id`` = the 36-char id shown for this outcome (``chatcmpl-`` stripped from compat
   ``id``); null when no record shows one or it is ``""``.
7. ``model`` = the model named by a record of this outcome (the app's message, a JSON field, or
   the model named inside an error message); null if no record of this outcome names it.
8. Lines that are not API call outcomes (startup, health checks, unrelated warnings) are in the
   logs on purpose and have no truth row.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TRUTH_DIR = REPO / "tests" / "data" / "sample_truth"
DEFAULT_SEED = 20261120

TZ = timezone(timedelta(hours=8))
DAY0 = datetime(2026, 11, 20, tzinfo=TZ)
DAY_MS = 86_400_000
T0_MS = int(DAY0.timestamp() * 1000)


def _at(hh: int, mm: int) -> int:
    return T0_MS + (hh * 60 + mm) * 60_000


#: the simulated incidents, shared by every sample log (ms since epoch, [start, end))
BURST = (_at(14, 5), _at(14, 25))  # throttling burst: a batch job floods the account
OUTAGE = (_at(20, 40), _at(21, 5))  # server-side outage: 500/503/timeouts

NATIVE_URL = "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation"
MM_URL = "https://dashscope.aliyuncs.com/api/v1/services/aigc/multimodal-generation/generation"
COMPAT_URL = "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"

COMPAT_TO_NATIVE = {
    "invalid_api_key": "InvalidApiKey",
    "invalid_parameter_error": "InvalidParameter",
    "data_inspection_failed": "DataInspectionFailed",
    "access_denied": "AccessDenied",
    "limit_requests": "Throttling.RateQuota",
    "limit_burst_rate": "Throttling.BurstRate",
    "insufficient_quota": "Throttling.AllocationQuota",
    "model_not_found": "ModelNotFound",
    "internal_error": "InternalError",
    "internal_server_error": "InternalError",
}

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

OPENAI_CLASS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    429: "RateLimitError",
}


@dataclass(frozen=True)
class Err:
    """One kind of DashScope failure, in the native and the compatible-mode dialect."""

    status: int
    code: str
    message: str
    compat_code: str
    compat_type: str
    compat_message: str

    @property
    def retryable(self) -> bool:
        return self.status in (408, 429) or self.status >= 500


RATE_MSG = "Requests rate limit exceeded, please try again later."
BURST_MSG = (
    "Request rate increased too quickly. To ensure system stability, please adjust your client "
    "logic to scale requests more smoothly over time."
)
INTERNAL_MSG = "An internal error has occured, please try again later or contact service support."
FREE_TIER_MSG = (
    "The free tier of the model has been exhausted. If you wish to continue access the model on a "
    'paid basis, please disable the "use free tier only" mode in the management console.'
)
ARREARS_MSG = (
    "Access denied, plesase make sure your account is in good standing. For details, see: "
    "https://help.aliyun.com/zh/model-studio/error-code#overdue-payment"
)
ERRS: dict[str, Err] = {
    "rate": Err(
        429,
        "Throttling.RateQuota",
        RATE_MSG,
        "limit_requests",
        "limit_requests",
        "You exceeded your current requests list.",
    ),
    "tpm": Err(
        429,
        "Throttling.AllocationQuota",
        "Allocated quota exceeded, please increase your quota limit.",
        "insufficient_quota",
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details. "
        "For details, see: https://help.aliyun.com/zh/model-studio/error-code#token-limit",
    ),
    "burst": Err(
        429, "Throttling.BurstRate", BURST_MSG, "limit_burst_rate", "limit_burst_rate", BURST_MSG
    ),
    "free": Err(
        429,
        "Throttling.AllocationQuota",
        "Free allocated quota exceeded.",
        "insufficient_quota",
        "insufficient_quota",
        "Free allocated quota exceeded.",
    ),
    "freetier": Err(
        403,
        "AllocationQuota.FreeTierOnly",
        FREE_TIER_MSG,
        "AllocationQuota.FreeTierOnly",
        "AllocationQuota.FreeTierOnly",
        FREE_TIER_MSG,
    ),
    "internal": Err(
        500, "InternalError", INTERNAL_MSG, "internal_error", "internal_error", INTERNAL_MSG
    ),
    "system": Err(
        500,
        "SystemError",
        "An system error has occured, please try again later.",
        "internal_server_error",
        "internal_server_error",
        "An system error has occured, please try again later.",
    ),
    "algo": Err(
        500,
        "InternalError.Algo",
        "An internal error has occured during execution, please try again later or "
        "contact service support.",
        "internal_error",
        "internal_error",
        INTERNAL_MSG,
    ),
    "unavailable": Err(
        503,
        "ModelUnavailable",
        "Model is unavailable, please try again later.",
        "ModelUnavailable",
        "ServiceUnavailable",
        "Model is unavailable, please try again later.",
    ),
    "timeout408": Err(
        408,
        "RequestTimeOut",
        "Request timed out, please try again later.",
        "RequestTimeOut",
        "RequestTimeOut",
        "Request timed out, please try again later.",
    ),
    "param": Err(
        400,
        "InvalidParameter",
        "Range of input length should be [1, 30720]",
        "invalid_parameter_error",
        "invalid_request_error",
        "<400> InternalError.Algo.InvalidParameter: Range of input length should be [1, 30720]",
    ),
    "param_zh": Err(
        400,
        "InvalidParameter",
        "暂时不支持当前设置的语种！",
        "invalid_parameter_error",
        "invalid_request_error",
        "<400> InternalError.Algo.InvalidParameter: 暂时不支持当前设置的语种！",
    ),
    "inspect": Err(
        400,
        "DataInspectionFailed",
        "Input data may contain inappropriate content.",
        "data_inspection_failed",
        "data_inspection_failed",
        "<400> InternalError.Algo.DataInspectionFailed: Input text data may contain "
        "inappropriate content.",
    ),
    "apikey": Err(
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
        "invalid_api_key",
        "invalid_request_error",
        "Incorrect API key provided. ",
    ),
    "arrears": Err(400, "Arrearage", ARREARS_MSG, "Arrearage", "Arrearage", ARREARS_MSG),
    "unpurchased": Err(
        403,
        "AccessDenied.Unpurchased",
        "Access to model denied. Please make sure you are eligible for using the model.",
        "AccessDenied.Unpurchased",
        "AccessDenied.Unpurchased",
        "Access to model denied. Please make sure you are eligible for using the model.",
    ),
    "denied": Err(
        403, "AccessDenied", "Access denied.", "access_denied", "access_denied", "Access denied."
    ),
    "notfound": Err(
        404,
        "ModelNotFound",
        "Model not exist.",
        "model_not_found",
        "invalid_request_error",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
}

#: catalogue status of every code the generator writes (for outcomes whose log shows none)
CATALOG_STATUS = {e.code: e.status for e in ERRS.values()}

# The "client timeout" / "gateway" pseudo kinds are rendered by each writer in its own way.
BURST_MIX = [("rate", 50), ("tpm", 22), ("burst", 15), ("free", 8), ("freetier", 5)]
OUTAGE_MIX = [
    ("internal", 30),
    ("system", 15),
    ("unavailable", 20),
    ("algo", 10),
    ("timeout", 15),
    ("gateway", 10),
]
SCATTER_MIX = [
    ("param", 22),
    ("inspect", 25),
    ("apikey", 10),
    ("arrears", 6),
    ("unpurchased", 10),
    ("denied", 5),
    ("notfound", 7),
    ("rate", 10),
    ("param_zh", 5),
]


# --------------------------------------------------------------------------------------- helpers
def pick(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    total = sum(w for _, w in mix)
    x = rng.random() * total
    for key, w in mix:
        x -= w
        if x < 0:
            return key
    return mix[-1][0]


def draw_outcome(rng: random.Random, t: int, scatter: float = 0.012) -> str | None:
    """None for success, else an error kind (a key of ERRS, or 'timeout' / 'gateway')."""
    if BURST[0] <= t < BURST[1]:
        return pick(rng, BURST_MIX) if rng.random() < 0.45 else None
    if OUTAGE[0] <= t < OUTAGE[1]:
        return pick(rng, OUTAGE_MIX) if rng.random() < 0.6 else None
    return pick(rng, SCATTER_MIX) if rng.random() < scatter else None


def rid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, TZ)


def ts_py(ms: int) -> str:
    """asctime of Python logging: 2026-11-20 14:02:07,123"""
    return _dt(ms).strftime("%Y-%m-%d %H:%M:%S") + f",{ms % 1000:03d}"


def ts_iso(ms: int) -> str:
    """2026-11-20T14:02:07.123+08:00 (Spring Boot, truth)"""
    return _dt(ms).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}+08:00"


def ts_utc(ms: int) -> str:
    """2026-11-20T06:02:07.123Z"""
    d = datetime.fromtimestamp(ms / 1000, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def call_times(rng: random.Random, per_day: int, burst_boost: float = 3.0) -> list[int]:
    """Call start times over the simulated day: diurnal load plus a traffic spike in BURST."""
    weights = []
    for minute in range(1440):
        hour = minute / 60
        w = 0.15 + max(0.0, 1.0 - abs(hour - 14.5) / 8.0)  # peak in the afternoon
        t = T0_MS + minute * 60_000
        if BURST[0] <= t < BURST[1]:
            w *= burst_boost
        weights.append(w)
    scale = per_day / sum(weights)
    out: list[int] = []
    for minute, w in enumerate(weights):
        lam = w * scale
        n = int(lam) + (1 if rng.random() < lam - int(lam) else 0)
        base = T0_MS + minute * 60_000
        out.extend(base + rng.randrange(60_000) for _ in range(n))
    out.sort()
    return out


class LogWriter:
    """The records of one log. Calls overlap, so records are written in time order at the end.

    ``write`` returns a record id; ``finish`` sorts the records by (time, order of writing) and
    turns the ids stored in the truth rows' ``line`` into 1-based line numbers.
    """

    def __init__(self) -> None:
        self.records: list[tuple[int, int, str]] = []
        self.max_ms = 0

    def write(self, ms: int, text: str) -> int:
        assert text.endswith("\n"), text
        self.records.append((ms, len(self.records), text))
        self.max_ms = max(self.max_ms, ms)
        return len(self.records) - 1

    def finish(self, truth: list[dict[str, object]]) -> str:
        self.records.sort()
        line_of = {}
        line = 1
        for _, rec_id, text in self.records:
            line_of[rec_id] = line
            line += text.count("\n")
        for row in truth:
            row["line"] = line_of[row["line"]]  # type: ignore[index]
        truth.sort(key=lambda r: r["line"])  # type: ignore[arg-type, return-value]
        return "".join(text for _, _, text in self.records)


def truth_row(
    ms: int,
    *,
    status: int | None,
    logged: int | None,
    code: str | None,
    request_id: str | None,
    model: str | None,
    is_error: bool,
    line: int,
    mentions: int = 1,
) -> dict[str, object]:
    return {
        "timestamp": ts_iso(ms),
        "status_code": status,
        "logged_status": logged,
        "code": code,
        "request_id": request_id or None,
        "model": model,
        "is_error": is_error,
        "line": line,
        "mentions": mentions,
    }


def compat_code(code: str) -> str:
    return COMPAT_TO_NATIVE.get(code, code)


def usage(rng: random.Random) -> tuple[int, int]:
    return rng.randint(20, 3000), rng.randint(5, 1500)


def sdk_str(status: int, request_id: str, code: str, message: str) -> str:
    d = {
        "status_code": status,
        "request_id": request_id,
        "code": code,
        "message": message,
        "output": None,
        "usage": None,
    }
    return json.dumps(d, ensure_ascii=False)


def sdk_repr(cls: str, status: int, request_id: str, code: str, message: str) -> str:
    d = {
        "status_code": status,
        "request_id": request_id,
        "code": code,
        "message": message,
        "output": None,
        "usage": None,
    }
    return f"{cls}({d!r})"


def compat_body(e: Err, request_id: str, model: str, with_ids: bool = True) -> dict[str, object]:
    body: dict[str, object] = {
        "error": {
            "message": e.compat_message.replace("{model}", model),
            "type": e.compat_type,
            "param": None,
            "code": e.compat_code,
        }
    }
    if with_ids:
        body["id"] = f"chatcmpl-{request_id}"
        body["request_id"] = request_id
    return body


GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

PY_SITE = "/srv/{app}/.venv/lib/python3.11/site-packages"


# ------------------------------------------------------------------------- python_sdk.log
class PythonSdkLog:
    """An app on the dashscope Python SDK: a chat API, a vision streamer, a LangChain summarizer."""

    name = "python_sdk.log"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:{self.name}")
        self.w = LogWriter()
        self.truth: list[dict[str, object]] = []
        self.site = PY_SITE.format(app="qwen-chat")

    def rec(self, ms: int, level: str, logger: str, msg: str) -> int:
        return self.w.write(ms, f"{ts_py(ms)} {level} {logger}: {msg}\n")

    def build(self) -> None:
        rng = self.rng
        self.rec(T0_MS + 1234, "INFO", "app.main", "worker started pid=48213 dashscope=1.24.6")
        last_health = T0_MS
        for t in call_times(rng, 5200):
            if t - last_health > 900_000:  # a health check every 15 min: noise with "200"
                last_health = t
                self.rec(
                    t - 7, "INFO", "uvicorn.access", '10.0.3.7:51234 - "GET /healthz HTTP/1.1" 200'
                )
            r = rng.random()
            if r < 0.68:
                self.chat(t)
            elif r < 0.84:
                self.vision(t)
            else:
                self.summarize(t)
        self.rec(T0_MS + DAY_MS - 500, "INFO", "app.main", "worker stopping: SIGTERM received")

    # Generation.call, non-streaming
    def chat(self, t: int) -> None:
        rng = self.rng
        model = rng.choice(["qwen-plus", "qwen-plus", "qwen-max", "qwen-turbo", "deepseek-v3.1"])
        kind = draw_outcome(rng, t)
        lat = rng.randint(350, 4200)
        end = t + lat
        if kind is None:
            i, o = usage(rng)
            r = rid(rng)
            line = self.rec(
                end,
                "INFO",
                "app.chat",
                f"call ok request_id={r} model={model} latency_ms={lat} "
                f"input_tokens={i} output_tokens={o}",
            )
            self.truth.append(
                truth_row(
                    end,
                    status=200,
                    logged=None,  # the success line shows no status
                    code=None,
                    request_id=r,
                    model=model,
                    is_error=False,
                    line=line,
                )
            )
            return
        if kind == "timeout":
            line = self.rec(
                t + 60_000,
                "ERROR",
                "app.chat",
                f"Generation.call raised model={model}: HTTPSConnectionPool("
                "host='dashscope.aliyuncs.com', port=443): Read timed out. "
                "(read timeout=60)",
            )
            self.truth.append(
                truth_row(
                    t + 60_000,
                    status=None,
                    logged=None,
                    code=None,
                    request_id=None,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            return
        if kind == "gateway":
            line = self.rec(
                end,
                "ERROR",
                "app.chat",
                f"Generation.call failed model={model}: "
                + sdk_str(502, "", "Unknown", GATEWAY_HTML),
            )
            self.truth.append(
                truth_row(
                    end,
                    status=502,
                    logged=502,
                    code=None,
                    request_id=None,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            return
        e = ERRS[kind]
        if kind == "notfound":
            model = "qwen-maxx"
        r = rid(rng)
        v = rng.random()
        shown_model: str | None = model
        mentions = 1
        if v < 0.4:
            line = self.rec(
                end,
                "ERROR",
                "app.chat",
                f"Generation.call failed model={model}: " + sdk_str(e.status, r, e.code, e.message),
            )
        elif v < 0.6:
            line = self.rec(
                end,
                "WARNING",
                "app.chat",
                "non-200 response: "
                + sdk_repr("GenerationResponse", e.status, r, e.code, e.message),
            )
            shown_model = None
        elif v < 0.8:
            line = self.rec(
                end,
                "ERROR",
                "app.chat",
                f"Request id: {r}, Status code: {e.status}, error code: {e.code}, "
                f"error message: {e.message}",
            )
            shown_model = None
        else:  # async path: the SDK's own line first, then the app's
            line = self.rec(
                end,
                "ERROR",
                "dashscope",
                f"Request: {NATIVE_URL} failed, status: {e.status}, message: {e.message}",
            )
            self.rec(
                end + 1,
                "ERROR",
                "app.chat",
                f"Generation.call failed model={model}: " + sdk_str(e.status, r, e.code, e.message),
            )
            mentions = 2
        self.truth.append(
            truth_row(
                end,
                status=e.status,
                logged=e.status,
                code=e.code,
                request_id=r,
                model=shown_model,
                is_error=True,
                line=line,
                mentions=mentions,
            )
        )

    # MultiModalConversation.call(stream=True): errors inside the stream show as 400, request_id ""
    def vision(self, t: int) -> None:
        rng = self.rng
        model = "qwen-vl-max" if rng.random() < 0.7 else "qwen-vl-plus"
        kind = draw_outcome(rng, t)
        lat = rng.randint(800, 9000)
        end = t + lat
        if kind is None:
            r = rid(rng)
            line = self.rec(
                end,
                "INFO",
                "app.vision",
                f"stream done request_id={r} model={model} "
                f"chunks={rng.randint(5, 80)} latency_ms={lat}",
            )
            self.truth.append(
                truth_row(
                    end,
                    status=200,
                    logged=None,  # the success line shows no status
                    code=None,
                    request_id=r,
                    model=model,
                    is_error=False,
                    line=line,
                )
            )
            return
        if kind in ("timeout", "gateway"):
            kind = "algo"
        e = ERRS[kind]
        if kind == "notfound":
            e = ERRS["param"]
        if kind == "inspect" or e.retryable:  # an SSE error frame mid-stream: 400, no request id
            line = self.rec(
                end,
                "ERROR",
                "app.vision",
                f"stream error model={model}: " + sdk_str(400, "", e.code, e.message),
            )
            self.truth.append(
                truth_row(
                    end,
                    status=e.status,
                    logged=400,
                    code=e.code,
                    request_id=None,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            return
        r = rid(rng)
        line = self.rec(
            end,
            "ERROR",
            "app.vision",
            f"调用失败：model={model} " + sdk_str(e.status, r, e.code, e.message),
        )
        self.truth.append(
            truth_row(
                end,
                status=e.status,
                logged=e.status,
                code=e.code,
                request_id=r,
                model=model,
                is_error=True,
                line=line,
            )
        )

    def lc_traceback(self, exc_line: str) -> str:
        s = self.site
        return (
            "Traceback (most recent call last):\n"
            '  File "/srv/qwen-chat/app/summarize.py", line 57, in summarize\n'
            "    reply = chat.invoke(messages)\n"
            f'  File "{s}/langchain_core/language_models/chat_models.py", line 393, in invoke\n'
            "    self.generate_prompt(\n"
            f'  File "{s}/langchain_community/chat_models/tongyi.py", line 620, in '
            "completion_with_retry\n"
            "    return _completion_with_retry(**_kwargs)\n"
            f'  File "{s}/tenacity/__init__.py", line 480, in __call__\n'
            "    do = self.iter(retry_state=retry_state)\n"
            f'  File "{s}/langchain_community/chat_models/tongyi.py", line 616, in '
            "_completion_with_retry\n"
            "    return check_response(resp)\n"
            f'  File "{s}/langchain_community/chat_models/tongyi.py", line 226, in '
            "check_response\n"
            "    raise HTTPError(\n" + exc_line + "\n"
        )

    # ChatTongyi via LangChain: tenacity retries HTTPError (429/5xx), ValueError for 400/401
    def summarize(self, t: int) -> None:
        rng = self.rng
        model = "qwen-turbo"
        doc = rng.randint(10000, 99999)
        fn = (
            "langchain_community.chat_models.tongyi.ChatTongyi.completion_with_retry."
            "<locals>._completion_with_retry"
        )
        attempt = 1
        while True:
            kind = draw_outcome(rng, t)
            lat = rng.randint(500, 6000)
            end = t + lat
            if kind in ("timeout", "gateway"):
                kind = "internal"
            if kind is None:
                line = self.rec(
                    end,
                    "INFO",
                    "app.summarize",
                    f"summary ok doc={doc} model={model} chars={rng.randint(200, 3000)} "
                    f"latency_ms={lat}",
                )
                self.truth.append(
                    truth_row(
                        end,
                        status=200,
                        logged=None,  # the success line shows no status
                        code=None,
                        request_id=None,
                        model=model,
                        is_error=False,
                        line=line,
                    )
                )
                return
            e = ERRS["param"] if kind == "notfound" else ERRS[kind]
            if e.status in (400, 401):
                r = rid(rng)
                exc = (
                    f"ValueError: request_id: {r} \n status_code: {e.status} \n "
                    f"code: {e.code} \n message: {e.message}"
                )
                text = self.lc_traceback(exc).replace(
                    "    raise HTTPError(\n", "    raise ValueError(\n"
                )
                line = self.w.write(
                    end,
                    f"{ts_py(end)} ERROR app.summarize: summarize failed doc={doc} "
                    f"model={model}\n" + text,
                )
                self.truth.append(
                    truth_row(
                        end,
                        status=e.status,
                        logged=e.status,
                        code=e.code,
                        request_id=r,
                        model=model,
                        is_error=True,
                        line=line,
                    )
                )
                return
            err = (
                f"HTTP error occurred: status_code: {e.status} \n code: {e.code} \n "
                f"message: {e.message}"
            )
            if e.retryable and attempt < 3:
                line = self.rec(
                    end,
                    "WARNING",
                    "langchain_community.chat_models.tongyi",
                    f"Retrying {fn} in 4.0 seconds as it raised HTTPError: {err}.",
                )
                self.truth.append(
                    truth_row(
                        end,
                        status=e.status,
                        logged=e.status,
                        code=e.code,
                        request_id=None,
                        model=None,
                        is_error=True,
                        line=line,
                    )
                )
                attempt += 1
                t = end + 4000
                continue
            line = self.w.write(
                end,
                f"{ts_py(end)} ERROR app.summarize: summarize failed doc={doc} "
                f"model={model}\n" + self.lc_traceback(f"requests.exceptions.HTTPError: {err}"),
            )
            self.truth.append(
                truth_row(
                    end,
                    status=e.status,
                    logged=e.status,
                    code=e.code,
                    request_id=None,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            return


# ---------------------------------------------------------------------- openai_compat.log
class OpenAICompatLog:
    """An assistant on openai-python 1.x in compatible mode, one call at a time, max_retries=2."""

    name = "openai_compat.log"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:{self.name}")
        self.w = LogWriter()
        self.truth: list[dict[str, object]] = []
        s = PY_SITE.format(app="assistant")
        self.tb_head = (
            "Traceback (most recent call last):\n"
            '  File "/srv/assistant/assistant/llm.py", line 88, in complete\n'
            "    resp = client.chat.completions.create(\n"
            "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
            f'  File "{s}/openai/_utils/_utils.py", line 286, in wrapper\n'
            "    return func(*args, **kwargs)\n"
            "           ^^^^^^^^^^^^^^^^^^^^^\n"
            f'  File "{s}/openai/resources/chat/completions/completions.py", line 1147, in create\n'
            "    return self._post(\n"
            "           ^^^^^^^^^^^\n"
            f'  File "{s}/openai/_base_client.py", line 1259, in post\n'
            "    return cast(ResponseT, self.request(cast_to, opts, stream=stream, "
            "stream_cls=stream_cls))\n"
            "                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
            "^^^^^^^^^^^\n"
        )
        self.tb_status = (
            f'  File "{s}/openai/_base_client.py", line 1047, in request\n'
            "    raise self._make_status_error_from_response(err.response) from None\n"
        )
        self.tb_timeout = (
            "Traceback (most recent call last):\n"
            f'  File "{s}/httpx/_transports/default.py", line 101, in map_httpcore_exceptions\n'
            "    yield\n"
            f'  File "{s}/httpx/_transports/default.py", line 250, in handle_request\n'
            "    resp = self._pool.handle_request(req)\n"
            "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
            f'  File "{s}/httpx/_transports/default.py", line 118, in map_httpcore_exceptions\n'
            "    raise mapped_exc(message) from exc\n"
            "httpx.ReadTimeout: The read operation timed out\n"
            "\n"
            "The above exception was the direct cause of the following exception:\n"
            "\n" + self.tb_head + f'  File "{s}/openai/_base_client.py", line 1000, in request\n'
            "    raise APITimeoutError(request=request) from err\n"
            "openai.APITimeoutError: Request timed out.\n"
        )

    def rec(self, ms: int, logger: str, level: str, msg: str) -> int:
        return self.w.write(ms, f"{ts_py(ms)} - {logger} - {level} - {msg}\n")

    def httpx(self, ms: int, status: int) -> int:
        return self.rec(
            ms,
            "httpx",
            "INFO",
            f'HTTP Request: POST {COMPAT_URL} "HTTP/1.1 {status} {REASONS[status]}"',
        )

    def retrying(self, ms: int, attempt: int) -> tuple[int, int]:
        """The openai retry line; returns (record id, ms when the next attempt starts)."""
        delay = 0.5 * (2 ** (attempt - 1)) * (1 - 0.25 * self.rng.random())
        rec = self.rec(
            ms,
            "openai._base_client",
            "INFO",
            f"Retrying request to /chat/completions in {delay:f} seconds",
        )
        return rec, ms + int(delay * 1000)

    def build(self) -> None:
        rng = self.rng
        self.rec(
            T0_MS + 2051,
            "assistant.main",
            "INFO",
            "assistant ready base_url=https://dashscope.aliyuncs.com/compatible-mode/v1",
        )
        for t in call_times(rng, 2300):
            self.call(max(t, self.w.max_ms + rng.randint(20, 900)))  # one call at a time

    def call(self, t: int) -> None:
        rng = self.rng
        model = rng.choice(
            ["qwen-plus", "qwen3-coder-plus", "qwen3-coder-plus", "deepseek-v3.1", "qwen-max"]
        )
        for attempt in (1, 2, 3):
            kind = draw_outcome(rng, t, scatter=0.015)
            lat = rng.randint(300, 5000) if kind is None else rng.randint(40, 900)
            end = t + lat
            if kind is None:
                r = rid(rng)
                i, o = usage(rng)
                line = self.httpx(end, 200)
                self.rec(
                    end + 2,
                    "assistant.llm",
                    "INFO",
                    f"completion ok id=chatcmpl-{r} model={model} prompt_tokens={i} "
                    f"completion_tokens={o} latency_ms={lat}",
                )
                self.truth.append(
                    truth_row(
                        end,
                        status=200,
                        logged=200,
                        code=None,
                        request_id=r,
                        model=model,
                        is_error=False,
                        line=line,
                        mentions=2,
                    )
                )
                return
            last = attempt == 3
            if kind == "timeout":
                end = t + 60_000
                if not last:
                    line, next_t = self.retrying(end, attempt)
                    self.truth.append(
                        truth_row(
                            end,
                            status=None,
                            logged=None,
                            code=None,
                            request_id=None,
                            model=None,
                            is_error=True,
                            line=line,
                        )
                    )
                    t = next_t
                    continue
                line = self.w.write(
                    end,
                    f"{ts_py(end)} - assistant.llm - ERROR - chat completion "
                    f"failed (model={model})\n" + self.tb_timeout,
                )
                self.truth.append(
                    truth_row(
                        end,
                        status=None,
                        logged=None,
                        code=None,
                        request_id=None,
                        model=model,
                        is_error=True,
                        line=line,
                    )
                )
                return
            if kind == "gateway":
                status, code, r, exc = (
                    504,
                    None,
                    None,
                    "openai.InternalServerError: upstream request timeout",
                )
                retryable = True
            else:
                e = ERRS[kind]
                status, retryable = e.status, e.retryable
                if kind == "notfound":
                    model = "qwen3-coder"
                with_ids = kind != "apikey"
                r = rid(rng) if with_ids else None
                body = compat_body(e, r or "", model, with_ids)
                cls = OPENAI_CLASS.get(
                    status, "InternalServerError" if status >= 500 else "APIStatusError"
                )
                exc = f"openai.{cls}: Error code: {status} - {body!r}"
                code = compat_code(e.compat_code)
            line = self.httpx(end, status)
            if retryable and not last:
                _, next_t = self.retrying(end + 1, attempt)
                self.truth.append(
                    truth_row(
                        end,
                        status=status,
                        logged=status,
                        code=None,
                        request_id=None,
                        model=None,
                        is_error=True,
                        line=line,
                        mentions=2,
                    )
                )
                t = next_t
                continue
            self.w.write(
                end + 3,
                f"{ts_py(end + 3)} - assistant.llm - ERROR - chat completion failed "
                f"(model={model})\n" + self.tb_head + self.tb_status + exc + "\n",
            )
            self.truth.append(
                truth_row(
                    end,
                    status=status,
                    logged=status,
                    code=code,
                    request_id=r,
                    model=model,
                    is_error=True,
                    line=line,
                    mentions=2,
                )
            )
            return


# ---------------------------------------------------------------------- app_events.jsonl
class JsonEventsLog:
    """JSON-lines: 'chat-api' (native SDK, dashscope 2.x) and 'agent-gateway' (compat) records."""

    name = "app_events.jsonl"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:{self.name}")
        self.w = LogWriter()
        self.truth: list[dict[str, object]] = []

    def build(self) -> None:
        for t in call_times(self.rng, 7000):
            if self.rng.random() < 0.65:
                self.chat_api(t)
            else:
                self.gateway(t)

    def line(self, obj: dict[str, object], ms: int) -> int:
        return self.w.write(ms, json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")

    def chat_api(self, t: int) -> None:
        rng = self.rng
        model = rng.choice(["qwen-plus", "qwen-max", "qwen-turbo", "qwen-vl-max", "qwen-plus"])
        kind = draw_outcome(rng, t)
        lat = rng.randint(250, 5000)
        end = t + lat
        r = rid(rng)
        rec: dict[str, object] = {
            "ts": ts_iso(end),
            "level": "INFO",
            "service": "chat-api",
            "model": model,
        }
        if kind is None:
            i, o = usage(rng)
            rec.update(
                status_code=200,
                request_id=r,
                code="",
                message="",
                latency_ms=lat,
                usage={"input_tokens": i, "output_tokens": o, "total_tokens": i + o},
            )
            line = self.line(rec, end)
            self.truth.append(
                truth_row(
                    end,
                    status=200,
                    logged=200,
                    code=None,
                    request_id=r,
                    model=model,
                    is_error=False,
                    line=line,
                )
            )
            return
        if kind == "timeout":
            rec.update(
                level="ERROR",
                status_code=None,
                request_id=None,
                code=None,
                message="ReadTimeout: The read operation timed out",
                latency_ms=60000,
                usage=None,
            )
            end = t + 60_000
            rec["ts"] = ts_iso(end)
            line = self.line(rec, end)
            self.truth.append(
                truth_row(
                    end,
                    status=None,
                    logged=None,
                    code=None,
                    request_id=None,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            return
        if kind == "gateway":
            kind = "system"
        e = ERRS[kind]
        if kind == "notfound":
            model = rec["model"] = "qwen-maxx"
        stream = e.retryable and rng.random() < 0.25  # dashscope 2.x reports stream errors as 200
        logged = 200 if stream else e.status
        rec.update(
            level="ERROR",
            status_code=logged,
            request_id=r,
            code=e.code,
            message=e.message,
            latency_ms=lat,
            usage=None,
        )
        if stream:
            rec["stream"] = True
        line = self.line(rec, end)
        self.truth.append(
            truth_row(
                end,
                status=e.status,
                logged=logged,
                code=e.code,
                request_id=r,
                model=model,
                is_error=True,
                line=line,
            )
        )

    def gateway(self, t: int) -> None:
        rng = self.rng
        model = rng.choice(["qwen3-coder-plus", "deepseek-v3.1", "qwen-plus", "qwen-max"])
        call = f"{rng.getrandbits(48):012x}"
        for attempt in (1, 2, 3):
            kind = draw_outcome(rng, t, scatter=0.01)
            lat = rng.randint(300, 7000)
            end = t + lat
            rec: dict[str, object] = {
                "@timestamp": ts_utc(end),
                "log.level": "info",
                "svc": "agent-gateway",
                "call": call,
                "attempt": attempt,
                "model": model,
            }
            if kind is None:
                r = rid(rng)
                i, o = usage(rng)
                rec.update(
                    status=200,
                    requestId=r,
                    error=None,
                    latencyMs=lat,
                    tokens={"prompt": i, "completion": o},
                )
                line = self.line(rec, end)
                self.truth.append(
                    truth_row(
                        end,
                        status=200,
                        logged=200,
                        code=None,
                        request_id=r,
                        model=model,
                        is_error=False,
                        line=line,
                    )
                )
                return
            if kind in ("timeout", "gateway"):
                kind = "unavailable"
            e = ERRS[kind]
            if kind == "notfound":
                model = rec["model"] = "qwen3-coder"
            r = None if kind == "apikey" else rid(rng)
            rec.update(
                {
                    "log.level": "error",
                    "status": e.status,
                    "requestId": r,
                    "error": {
                        "code": e.compat_code,
                        "type": e.compat_type,
                        "message": e.compat_message.replace("{model}", model),
                    },
                    "latencyMs": lat,
                }
            )
            line = self.line(rec, end)
            self.truth.append(
                truth_row(
                    end,
                    status=e.status,
                    logged=e.status,
                    code=compat_code(e.compat_code),
                    request_id=r,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            if not e.retryable or attempt == 3:
                return
            t = end + 1000 * attempt


# ---------------------------------------------------------------------- java_service.log
JAVA_SDK_FRAMES = (
    "\tat com.alibaba.dashscope.protocol.okhttp.OkHttpHttpClient.handleResponse"
    "(OkHttpHttpClient.java:196)\n"
    "\tat com.alibaba.dashscope.protocol.okhttp.OkHttpHttpClient.send(OkHttpHttpClient.java:83)\n"
    "\tat com.alibaba.dashscope.api.SynchronizeHalfDuplexApi.call"
    "(SynchronizeHalfDuplexApi.java:62)\n"
    "\tat com.alibaba.dashscope.aigc.generation.Generation.call(Generation.java:132)\n"
    "\tat com.example.qwen.QwenClient.chat(QwenClient.java:71)\n"
    "\tat com.example.qwen.ChatController.chat(ChatController.java:38)\n"
    "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke"
    "(DirectMethodHandleAccessor.java:103)\n"
    "\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)\n"
    "\tat org.springframework.web.method.support.InvocableHandlerMethod.doInvoke"
    "(InvocableHandlerMethod.java:255)\n"
    "\tat org.apache.tomcat.util.threads.TaskThread$WrappingRunnable.run(TaskThread.java:63)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"
)
JAVA_STREAM_FRAMES = JAVA_SDK_FRAMES.replace(
    "\tat com.alibaba.dashscope.aigc.generation.Generation.call(Generation.java:132)\n"
    "\tat com.example.qwen.QwenClient.chat(QwenClient.java:71)\n",
    "\tat com.alibaba.dashscope.aigc.generation.Generation.streamCall(Generation.java:188)\n"
    "\tat com.example.qwen.QwenClient.streamChat(QwenClient.java:102)\n",
)
SPRING_AI_FRAMES = (
    "\tat org.springframework.ai.retry.RetryUtils$1.handleError(RetryUtils.java:68)\n"
    "\tat org.springframework.web.client.StatusHandler.lambda$fromErrorHandler$1"
    "(StatusHandler.java:71)\n"
    "\tat org.springframework.web.client.DefaultRestClient.readWithMessageConverters"
    "(DefaultRestClient.java:216)\n"
    "\tat org.springframework.ai.openai.api.OpenAiApi.chatCompletionEntity(OpenAiApi.java:267)\n"
    "\tat org.springframework.ai.openai.OpenAiChatModel.lambda$internalCall$1"
    "(OpenAiChatModel.java:199)\n"
    "\tat org.springframework.retry.support.RetryTemplate.doExecute(RetryTemplate.java:357)\n"
    "\tat com.example.qwen.SummaryService.summarize(SummaryService.java:44)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"
)
ALIBABA_FRAMES = (
    "\tat com.alibaba.cloud.ai.dashscope.api.DashScopeApi.lambda$chatCompletionEntity$0"
    "(DashScopeApi.java:312)\n"
    "\tat com.alibaba.cloud.ai.dashscope.chat.DashScopeChatModel.internalCall"
    "(DashScopeChatModel.java:171)\n"
    "\tat com.example.qwen.AssistantService.reply(AssistantService.java:58)\n"
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"
)


class JavaServiceLog:
    """A Spring Boot service: DashScope Java SDK, Spring AI (compat) and spring-ai-alibaba."""

    name = "java_service.log"
    pid = 12345

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:{self.name}")
        self.w = LogWriter()
        self.truth: list[dict[str, object]] = []

    def rec(  # noqa: PLR0917 - mirrors the Spring Boot line layout field by field
        self, ms: int, level: str, thread: str, logger: str, msg: str, trace: str = ""
    ) -> int:
        return self.w.write(
            ms,
            f"{ts_iso(ms)} {level:>5} {self.pid} --- [{thread[-15:]:>15}] {logger:<40} : {msg}\n"
            + trace,
        )

    def build(self) -> None:
        rng = self.rng
        main = "main"
        self.rec(
            T0_MS + 812,
            "INFO",
            main,
            "c.e.q.QwenGatewayApplication",
            "Starting QwenGatewayApplication v1.8.2 using Java 21.0.5 with PID 12345",
        )
        self.rec(
            T0_MS + 3120,
            "INFO",
            main,
            "o.s.b.w.embedded.tomcat.TomcatWebServer",
            "Tomcat started on port 8080 (http) with context path '/'",
        )
        self.rec(
            T0_MS + 3188,
            "WARN",
            main,
            "o.s.b.a.o.j.JpaBaseConfiguration$JpaWebConfiguration",
            "spring.jpa.open-in-view is enabled by default. Therefore, database queries may "
            "be performed during view rendering.",
        )
        for t in call_times(rng, 2600):
            r = rng.random()
            if r < 0.6:
                self.qwen_client(t)
            elif r < 0.82:
                self.summary(t)
            else:
                self.assistant(t)

    def thread(self) -> str:
        return f"nio-8080-exec-{self.rng.randint(1, 10)}"

    def qwen_client(self, t: int) -> None:
        rng = self.rng
        th = self.thread()
        lg = "c.e.q.QwenClient"
        model = rng.choice(["qwen-max", "qwen-plus", "qwen-turbo", "qwen-plus"])
        kind = draw_outcome(rng, t)
        lat = rng.randint(300, 5000)
        end = t + lat
        if kind is None:
            r = rid(rng)
            i, o = usage(rng)
            line = self.rec(
                end,
                "INFO",
                th,
                lg,
                f"qwen call ok model={model} requestId={r} latencyMs={lat} "
                f"inputTokens={i} outputTokens={o}",
            )
            self.truth.append(
                truth_row(
                    end,
                    status=200,
                    logged=None,  # the success line shows no status
                    code=None,
                    request_id=r,
                    model=model,
                    is_error=False,
                    line=line,
                )
            )
            return
        if kind in ("timeout", "gateway"):
            end = t + 30_000
            status_json = (
                '{"statusCode":-1,"message":"SocketTimeoutException: timeout",'
                '"code":"network error","isJson":false}'
            )
            line = self.rec(
                end,
                "ERROR",
                th,
                lg,
                f"qwen call failed model={model}",
                "com.alibaba.dashscope.exception.ApiException: "
                + status_json
                + "\n"
                + JAVA_SDK_FRAMES,
            )
            self.truth.append(
                truth_row(
                    end,
                    status=None,
                    logged=-1,
                    code="network error",
                    request_id=None,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            return
        e = ERRS[kind]
        if kind == "notfound":
            e = ERRS["param"]
        r = rid(rng)
        stream = e.retryable and rng.random() < 0.2  # Java stream errors: hard-coded 400
        logged = 400 if stream else e.status
        status_json = json.dumps(
            {
                "statusCode": logged,
                "message": e.message,
                "code": e.code,
                "isJson": True,
                "requestId": r,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        exc = "com.alibaba.dashscope.exception.ApiException: " + status_json
        shown_model: str | None = model
        if rng.random() < 0.25:  # log.error("...: " + e): toString() doubles the JSON
            line = self.rec(
                end, "ERROR", th, lg, f"qwen call failed: {exc}; status body:{status_json}"
            )
            shown_model = None
        else:
            frames = JAVA_STREAM_FRAMES if stream else JAVA_SDK_FRAMES
            line = self.rec(
                end, "ERROR", th, lg, f"qwen call failed model={model}", exc + "\n" + frames
            )
        self.truth.append(
            truth_row(
                end,
                status=e.status,
                logged=logged,
                code=e.code,
                request_id=r,
                model=shown_model,
                is_error=True,
                line=line,
            )
        )

    def summary(self, t: int) -> None:
        """Spring AI OpenAI client on compatible mode: 4xx NonTransient, 5xx retried (3 tries)."""
        rng = self.rng
        th = f"task-{rng.randint(1, 8)}"
        lg = "c.e.q.SummaryService"
        model = "qwen-plus"
        first_line: int | None = None
        for attempt in (1, 2, 3):
            kind = draw_outcome(rng, t)
            lat = rng.randint(600, 8000)
            end = t + lat
            if kind is None:
                line = self.rec(
                    end,
                    "INFO",
                    th,
                    lg,
                    f"summary ok model={model} totalTokens={rng.randint(100, 4000)}",
                )
                self.truth.append(
                    truth_row(
                        end,
                        status=200,
                        logged=None,  # the success line shows no status
                        code=None,
                        request_id=None,
                        model=model,
                        is_error=False,
                        line=line,
                    )
                )
                return
            if kind in ("timeout", "gateway"):
                kind = "internal"
            e = ERRS[kind]
            r = None if kind == "apikey" else rid(rng)
            body = json.dumps(
                compat_body(e, r or "", model, r is not None),
                ensure_ascii=False,
                separators=(",", ":"),
            )
            code = compat_code(e.compat_code)
            if e.status >= 500:
                exc = f"org.springframework.ai.retry.TransientAiException: HTTP {e.status} - {body}"
                first_line = self.rec(
                    end,
                    "WARN",
                    th,
                    "o.s.ai.retry.RetryUtils",
                    f"Retry error. Retry count:{attempt}",
                    exc + "\n" + SPRING_AI_FRAMES,
                )
                if attempt < 3:
                    self.truth.append(
                        truth_row(
                            end,
                            status=e.status,
                            logged=e.status,
                            code=code,
                            request_id=r,
                            model=None,
                            is_error=True,
                            line=first_line,
                        )
                    )
                    t = end + 2000 * attempt
                    continue
                self.rec(
                    end + 2,
                    "ERROR",
                    th,
                    lg,
                    f"summary failed model={model}",
                    exc + "\n" + SPRING_AI_FRAMES,
                )
                self.truth.append(
                    truth_row(
                        end,
                        status=e.status,
                        logged=e.status,
                        code=code,
                        request_id=r,
                        model=model,
                        is_error=True,
                        line=first_line,
                        mentions=2,
                    )
                )
                return
            exc = f"org.springframework.ai.retry.NonTransientAiException: HTTP {e.status} - {body}"
            line = self.rec(
                end, "ERROR", th, lg, f"summary failed model={model}", exc + "\n" + SPRING_AI_FRAMES
            )
            self.truth.append(
                truth_row(
                    end,
                    status=e.status,
                    logged=e.status,
                    code=code,
                    request_id=r,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )
            return

    def assistant(self, t: int) -> None:
        """spring-ai-alibaba: DashScopeException carries code, message and requestId, no status."""
        rng = self.rng
        th = self.thread()
        lg = "c.e.q.AssistantService"
        model = rng.choice(["qwen-max", "qwen3-coder-plus"])
        kind = draw_outcome(rng, t)
        lat = rng.randint(400, 6000)
        end = t + lat
        r = rid(rng)
        if kind is None:
            line = self.rec(end, "INFO", th, lg, f"assistant reply model={model} requestId={r}")
            self.truth.append(
                truth_row(
                    end,
                    status=200,
                    logged=None,  # the success line shows no status
                    code=None,
                    request_id=r,
                    model=model,
                    is_error=False,
                    line=line,
                )
            )
            return
        if kind in ("timeout", "gateway", "notfound"):
            kind = "system" if kind != "notfound" else "param"
        e = ERRS[kind]
        line = self.rec(
            end,
            "ERROR",
            th,
            lg,
            f"assistant call failed model={model}",
            "com.alibaba.cloud.ai.dashscope.common.DashScopeException: "
            f"[{e.code}] {e.message} (requestId: {r})\n" + ALIBABA_FRAMES,
        )
        self.truth.append(
            truth_row(
                end,
                status=CATALOG_STATUS[e.code],
                logged=None,
                code=e.code,
                request_id=r,
                model=model,
                is_error=True,
                line=line,
            )
        )


# ---------------------------------------------------------------------- dify_worker.log.gz
class DifyWorkerLog:
    """Dify api worker (compressed): [tongyi] invoke errors and workflow lines. Errors only show."""

    name = "dify_worker.log.gz"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}:{self.name}")
        self.w = LogWriter()
        self.truth: list[dict[str, object]] = []

    def rec(self, ms: int, level: str, where: str, msg: str) -> int:
        # Dify's format prints the milliseconds twice: "2026-11-20 14:02:07,123.123"
        th = f"Thread-{self.rng.randint(20, 60)} (_generate_worker)"
        return self.w.write(ms, f"{ts_py(ms)}.{ms % 1000:03d} {level} [{th}] [{where}] - {msg}\n")

    def build(self) -> None:
        rng = self.rng
        for t in call_times(rng, 900):
            kind = draw_outcome(rng, t, scatter=0.02)
            model = rng.choice(["qwen-max", "qwen-plus", "qwen-turbo"])
            end = t + rng.randint(500, 6000)
            if kind is None:
                if rng.random() < 0.1:  # unrelated noise: Dify does not log successful calls
                    self.rec(end, "INFO", "ext_redis.py:88", "redis connection pool stats ok")
                continue
            if kind in ("timeout", "gateway"):
                kind = "unavailable"
            e = ERRS[kind]
            r = rid(rng)
            if e.status in (429,):
                label, etype = "Rate Limit Error", "InvokeRateLimitError"
            elif e.status >= 500:
                label, etype = "Server Unavailable Error", "InvokeServerUnavailableError"
            elif e.status in (401, 403):
                label, etype = "Authorization Error", "InvokeAuthorizationError"
            else:
                label, etype = "Bad Request Error", "InvokeBadRequestError"
            msg = (
                f"[tongyi] {label}, Failed to invoke model {model}, status code: {e.status}, "
                f"message: {e.message}, request_id: {r}"
            )
            body = json.dumps({"args": {}, "error_type": etype, "message": msg}, ensure_ascii=False)
            line = self.rec(
                end,
                "ERROR",
                "app_generator.py:265",
                f"Error when generating\ncore.plugin.impl.exc.PluginInvokeError: {body}",
            )
            self.truth.append(
                truth_row(
                    end,
                    status=e.status,
                    logged=e.status,
                    code=None,
                    request_id=r,
                    model=model,
                    is_error=True,
                    line=line,
                )
            )


SAMPLE_LOGS: tuple[type, ...] = (
    PythonSdkLog,
    OpenAICompatLog,
    JsonEventsLog,
    JavaServiceLog,
    DifyWorkerLog,
)


def write_samples(out: Path, seed: int = DEFAULT_SEED, truth_dir: Path | None = None) -> list[Path]:
    """Write the sample logs into ``out`` and their truth files into ``truth_dir``."""
    out.mkdir(parents=True, exist_ok=True)
    truth_dir = truth_dir or TRUTH_DIR
    truth_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cls in SAMPLE_LOGS:
        log = cls(seed)
        log.build()
        data = log.w.finish(log.truth).encode("utf-8")
        path = out / log.name
        if path.suffix == ".gz":
            data = gzip.compress(data, compresslevel=6, mtime=0)
        path.write_bytes(data)
        truth = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in log.truth)
        (truth_dir / f"{log.name}.truth.jsonl").write_text(truth, encoding="utf-8")
        written.append(path)
    return written


# =============================================================================== bench profile
SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*$", re.IGNORECASE)
KINDS = ("jsonl", "text", "openai", "mixed")


def parse_size(text: str) -> int:
    m = SIZE_RE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 500KB, 20MB or 1GB, not {text!r}")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
    return int(float(m.group(1)) * mult)


class _Clock:
    """Cheap monotonic timestamps: the per-second prefix is formatted once per second."""

    def __init__(self, rng: random.Random, start_ms: int) -> None:
        self.rng = rng
        self.ms = start_ms
        self._sec = -1
        self._py = self._iso = ""

    def tick(self, max_step: int = 40) -> None:
        self.ms += self.rng.randrange(max_step)
        sec = self.ms // 1000
        if sec != self._sec:
            self._sec = sec
            d = datetime.fromtimestamp(sec, TZ)
            self._py = d.strftime("%Y-%m-%d %H:%M:%S")
            self._iso = d.strftime("%Y-%m-%dT%H:%M:%S")

    def py(self) -> str:
        return f"{self._py},{self.ms % 1000:03d}"

    def iso(self) -> str:
        return f"{self._iso}.{self.ms % 1000:03d}+08:00"


BENCH_MODELS = ("qwen-plus", "qwen-max", "qwen-turbo", "qwen3-coder-plus", "deepseek-v3.1")
BENCH_ERR_KEYS = ("rate", "tpm", "burst", "internal", "unavailable", "param", "inspect", "apikey")


def _rid_pool(rng: random.Random, n: int = 8192) -> list[str]:
    return [rid(rng) for _ in range(n)]


def _unique_rids(rng: random.Random, rids: list[str]) -> Iterator[str]:
    """Distinct request ids, cheaply: a random prefix from the pool and a counter as the tail
    (every API call has its own id; a repeated id would be merged as one outcome)."""
    nr = len(rids)
    n = 0
    while True:
        n += 1
        yield f"{rids[int(rng.random() * nr)][:24]}{n:012x}"


def _bench_jsonl(rng: random.Random, clock: _Clock, rids: list[str]) -> Iterator[str]:
    ok = (
        '{{"ts":"{ts}","level":"INFO","service":"chat-api","model":"{m}","status_code":200,'
        '"request_id":"{r}","code":"","message":"","latency_ms":{lat},'
        '"usage":{{"input_tokens":{i},"output_tokens":{o},"total_tokens":{t}}}}}\n'
    )
    errs = []
    for k in BENCH_ERR_KEYS:
        e = ERRS[k]
        msg = json.dumps(e.message, ensure_ascii=False).replace("{", "{{").replace("}", "}}")
        errs.append(
            '{{"ts":"{ts}","level":"ERROR","service":"chat-api","model":"{m}",'
            f'"status_code":{e.status},"request_id":"{{r}}","code":"{e.code}","message":{msg},'
            '"latency_ms":{lat},"usage":null}}\n'
        )
    rnd, unique = rng.random, _unique_rids(rng, rids)
    while True:
        clock.tick()
        m = BENCH_MODELS[int(rnd() * 5)]
        r = next(unique)
        lat = 200 + int(rnd() * 4000)
        if rnd() < 0.9:
            i = 20 + int(rnd() * 2000)
            o = 5 + int(rnd() * 900)
            yield ok.format(ts=clock.iso(), m=m, r=r, lat=lat, i=i, o=o, t=i + o)
        else:
            yield errs[int(rnd() * len(errs))].format(ts=clock.iso(), m=m, r=r, lat=lat)


def _bench_text(rng: random.Random, clock: _Clock, rids: list[str]) -> Iterator[str]:
    errs = []
    for k in BENCH_ERR_KEYS:
        e = ERRS[k]
        s = sdk_str(e.status, "@RID@", e.code, e.message).replace("{", "{{").replace("}", "}}")
        s = s.replace("@RID@", "{r}")
        errs.append("{ts} ERROR app.chat: Generation.call failed model={m}: " + s + "\n")
        errs.append(
            "{ts} ERROR app.chat: Request id: {r}, Status code: "
            f"{e.status}, error code: {e.code}, error message: "
            + e.message.replace("{", "{{").replace("}", "}}")
            + "\n"
        )
    ok = (
        "{ts} INFO app.chat: call ok request_id={r} model={m} latency_ms={lat} "
        "input_tokens={i} output_tokens={o}\n"
    )
    noise = '{ts} INFO uvicorn.access: 10.0.3.7:51234 - "POST /v1/chat HTTP/1.1" 200\n'
    rnd, unique = rng.random, _unique_rids(rng, rids)
    while True:
        clock.tick()
        m = BENCH_MODELS[int(rnd() * 5)]
        r = next(unique)
        x = rnd()
        if x < 0.85:
            yield ok.format(
                ts=clock.py(),
                r=r,
                m=m,
                lat=200 + int(rnd() * 4000),
                i=20 + int(rnd() * 2000),
                o=5 + int(rnd() * 900),
            )
        elif x < 0.9:
            yield noise.format(ts=clock.py())
        else:
            yield errs[int(rnd() * len(errs))].format(ts=clock.py(), r=r, m=m)


def _bench_openai(rng: random.Random, clock: _Clock, rids: list[str]) -> Iterator[str]:
    tpl = OpenAICompatLog(0)
    httpx_l = "{ts} - httpx - INFO - HTTP Request: POST " + COMPAT_URL + ' "HTTP/1.1 {s}"\n'
    ok = (
        "{ts} - assistant.llm - INFO - completion ok id=chatcmpl-{r} model={m} "
        "prompt_tokens={i} completion_tokens={o} latency_ms={lat}\n"
    )
    retry = (
        "{ts} - openai._base_client - INFO - Retrying request to /chat/completions in {d} seconds\n"
    )
    tb = (tpl.tb_head + tpl.tb_status).replace("{", "{{").replace("}", "}}")
    fails = []
    for k in BENCH_ERR_KEYS:
        e = ERRS[k]
        body = repr(compat_body(e, "@RID@", "qwen-plus")).replace("{", "{{").replace("}", "}}")
        cls = OPENAI_CLASS.get(e.status, "InternalServerError")
        exc = f"openai.{cls}: Error code: {e.status} - {body}".replace("@RID@", "{r}")
        fails.append(
            (
                e,
                "{ts} - assistant.llm - ERROR - chat completion failed (model={m})\n"
                + tb
                + exc
                + "\n",
            )
        )
    rnd, unique = rng.random, _unique_rids(rng, rids)
    while True:
        clock.tick(80)
        m = BENCH_MODELS[int(rnd() * 5)]
        r = next(unique)
        if rnd() < 0.9:
            yield httpx_l.format(ts=clock.py(), s="200 OK")
            yield ok.format(
                ts=clock.py(),
                r=r,
                m=m,
                i=20 + int(rnd() * 2000),
                o=5 + int(rnd() * 900),
                lat=200 + int(rnd() * 4000),
            )
            continue
        e, text = fails[int(rnd() * len(fails))]
        s = f"{e.status} {REASONS[e.status]}"
        if e.retryable:
            for a in (1, 2):
                yield httpx_l.format(ts=clock.py(), s=s)
                yield retry.format(ts=clock.py(), d=f"{0.5 * a * (1 - 0.25 * rnd()):f}")
                clock.tick()
        yield httpx_l.format(ts=clock.py(), s=s)
        yield text.format(ts=clock.py(), m=m, r=r)


def _bench_mixed(rng: random.Random, clock: _Clock, rids: list[str]) -> Iterator[str]:
    gens = [g(rng, clock, rids) for g in (_bench_jsonl, _bench_text, _bench_openai)]
    while True:
        g = gens[int(rng.random() * 3)]
        for _ in range(200):
            yield next(g)


BENCH_GENS: dict[str, Callable[[random.Random, _Clock, list[str]], Iterator[str]]] = {
    "jsonl": _bench_jsonl,
    "text": _bench_text,
    "openai": _bench_openai,
    "mixed": _bench_mixed,
}
BENCH_EXT = {"jsonl": "jsonl", "text": "log", "openai": "log", "mixed": "log"}


def bench_path(out: Path, kind: str, size: int) -> Path:
    return out / f"bench_{kind}_{size}.{BENCH_EXT[kind]}"


def write_bench(out: Path, kind: str, size: int, seed: int = DEFAULT_SEED) -> Path:
    """Stream about ``size`` bytes of ``kind`` logs (cut at a record boundary) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    path = bench_path(out, kind, size)
    rng = random.Random(f"{seed}:bench:{kind}")
    gen = BENCH_GENS[kind](rng, _Clock(rng, T0_MS), _rid_pool(rng))
    tmp = path.with_name(path.name + ".part")
    written = 0
    with open(tmp, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as fh:
        while written < size:
            buf = [next(gen) for _ in range(2000)]
            chunk = "".join(buf)
            fh.write(chunk)
            written += len(chunk.encode("utf-8")) if not chunk.isascii() else len(chunk)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="output directory")
    ap.add_argument("--profile", choices=("samples", "bench"), default="samples")
    ap.add_argument(
        "--size",
        type=parse_size,
        default=parse_size("1GB"),
        help="bench: approximate file size, e.g. 500KB, 20MB, 1GB",
    )
    ap.add_argument("--kind", choices=(*KINDS, "all"), default="all", help="bench: log kind")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument(
        "--truth-dir",
        type=Path,
        default=None,
        help="samples: where the truth files go (default tests/data/sample_truth)",
    )
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if args.profile == "samples":
        for p in write_samples(args.out, args.seed, args.truth_dir):
            print(f"{p}  {p.stat().st_size:>10,} bytes")
    else:
        for kind in KINDS if args.kind == "all" else (args.kind,):
            t1 = time.perf_counter()
            p = write_bench(args.out, kind, args.size, args.seed)
            dt = time.perf_counter() - t1
            mb = p.stat().st_size / 1e6
            print(f"{p}  {mb:,.1f} MB in {dt:.1f}s ({mb / dt:,.0f} MB/s)")
    print(f"done in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
