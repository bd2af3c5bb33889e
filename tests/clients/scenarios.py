"""What each client app calls and what the fake server answers (deterministic scripts).

The server answers requests in arrival order from ``plan``; SDK retries consume outcomes too,
so a plan lists one outcome per HTTP attempt, not per application call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .fake_dashscope import OK, Outcome, err

PROMPT = "用一句话介绍你自己。"


def _calls(models: list[str], streams: list[bool] | None = None) -> list[dict[str, Any]]:
    streams = streams or [False] * len(models)
    return [
        {"model": m, "prompt": PROMPT, "stream": s} for m, s in zip(models, streams, strict=True)
    ]


@dataclass(frozen=True)
class AppSpec:
    name: str
    script: str  # file name under apps/
    api: str  # "native" | "compat": which base URL the app gets
    calls: list[dict[str, Any]]
    plan: list[Outcome]
    #: where the log goes: "file" (app writes --log), "stdout" (stdout+stderr redirected),
    #: "stderr" (stderr redirected)
    output: str = "file"
    #: the log shows every HTTP attempt, so error events must equal failed requests
    shows_every_attempt: bool = True
    #: the model is written in the same log record as each error
    model_in_error_record: bool = False
    #: indexes (into ``plan``) of the failures whose request_id the log shows; None = all
    visible_errors: tuple[int, ...] | None = None
    #: indexes (into ``plan``) of failures whose id the log shows WITHOUT their error code
    #: (retry lines): the parser may leave ``code`` empty for them, but not guess a wrong one
    code_not_logged: tuple[int, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    #: what the SDK does with these answers (copied into the truth file)
    notes: str = ""


DS_NATIVE = AppSpec(
    name="ds_native",
    script="ds_native.py",
    api="native",
    calls=_calls(
        [
            "qwen-plus",
            "qwen-plus",
            "qwen-max",
            "qwen-turbo",
            "qwen-plus",
            "qwen-max",
            "qwen-plus",
            "qwen3-coder-plus",
            "qwen-max",
            "qwen-plus",
            "qwen-turbo",
        ]
    ),
    plan=[
        OK,
        err(429, "Throttling.RateQuota"),
        OK,
        err(429, "Throttling.AllocationQuota"),
        err(401, "InvalidApiKey"),
        err(400, "InvalidParameter"),
        err(400, "DataInspectionFailed"),
        err(500, "InternalError"),
        err(503, "ModelUnavailable"),
        err(400, "Arrearage"),
        OK,
    ],
    notes=(
        "dashscope 2.0.2 Generation.call (no stream) never raises on HTTP errors; the app logs "
        "str(resp): the SDK's JSON with status_code, request_id, code, message (true status). "
        "Successes are INFO lines 'call ok request_id=<rid> model=<m>'."
    ),
)

DS_STREAM = AppSpec(
    name="ds_stream",
    script="ds_stream.py",
    api="native",
    calls=_calls(["qwen-plus"] * 4 + ["qwen-max"] * 3 + ["qwen-turbo"] * 2, [True] * 9),
    plan=[
        OK,
        err(429, "Throttling.RateQuota", mid_stream=True, chunks=2),
        OK,
        err(401, "InvalidApiKey"),  # before the stream starts: HTTP 401 + SSE error frame
        err(500, "InternalError", mid_stream=True, chunks=0),  # HTTP 200, first frame is error
        err(400, "DataInspectionFailed", mid_stream=True, chunks=1),
        err(429, "Throttling.AllocationQuota", mid_stream=True, chunks=2),
        err(400, "InvalidParameter"),
        OK,
    ],
    output="stdout",
    model_in_error_record=True,
    notes=(
        "stdout+stderr of the app is the log; streamed text is printed without newline, so a "
        "record may start mid-line. dashscope 2.0.2 reports every error that arrives as an SSE "
        "event:error frame on an HTTP 200 response with status_code 400 (it ignores the "
        ":HTTP_STATUS/<n> comment) but WITH the request_id (read from the error frame data, "
        "even when the error is the first frame). Errors answered with a real HTTP status "
        "before the stream starts (401, 400 here) keep their status."
    ),
)

# openai: max_retries=2, so a retryable failure (429/5xx) is tried 3 times in all.
OPENAI_COMPAT = AppSpec(
    name="openai_compat",
    script="openai_compat.py",
    api="compat",
    calls=_calls(
        [
            "qwen-plus",
            "qwen-plus",
            "qwen-max",
            "qwen-plus",
            "qwen-plus",
            "qwen-turbo",
            "qwen-turbo",
            "qwen-max",
            "qwen-plus",
            "qwen-plus",
        ],
        [False, False, False, False, False, True, True, False, False, True],
    ),
    plan=[
        OK,  # 1
        err(429, "Throttling.RateQuota"),  # 2: three attempts, all fail -> RateLimitError
        err(429, "Throttling.RateQuota"),
        err(429, "Throttling.RateQuota"),
        err(500, "InternalError"),  # 3: fails once, retried, succeeds
        OK,
        err(401, "InvalidApiKey"),  # 4: not retried
        err(400, "DataInspectionFailed"),  # 5: not retried
        err(429, "Throttling.AllocationQuota"),  # 6 (stream): retried once, then streams
        OK,
        err(400, "InvalidParameter"),  # 7 (stream): not retried
        err(400, "Arrearage"),  # 8
        err(429, "Throttling.AllocationQuota"),  # 9: three attempts -> RateLimitError
        err(429, "Throttling.AllocationQuota"),
        err(429, "Throttling.AllocationQuota"),
        OK,  # 10 (stream)
    ],
    # the traceback shows the id of the last attempt of each failed call only
    visible_errors=(3, 6, 7, 10, 11, 14),
    notes=(
        "openai 1.109.1, max_retries=2, retry-after-ms: 10. Every attempt leaves an httpx INFO "
        "line 'HTTP Request: POST <url> \"HTTP/1.1 <status> <reason>\"' (no request_id); "
        "retried ones are followed by 'Retrying request to /chat/completions in 0.010000 "
        "seconds'. The final failure is a logger.exception traceback ending in "
        "'openai.<Class>: Error code: <status> - {python repr of the compat body}' carrying "
        "the request_id of the LAST attempt only. Ids of retried attempts appear nowhere."
    ),
)

JSONL = AppSpec(
    name="jsonl_app",
    script="jsonl_app.py",
    api="native",
    calls=_calls(
        [
            "qwen-plus",
            "qwen-plus",
            "qwen-max",
            "qwen-plus",
            "qwen-max",
            "qwen-turbo",
            "qwen-plus",
            "qwen-max",
            "qwen-plus",
        ],
        [False, False, False, True, False, True, False, True, False],
    ),
    plan=[
        OK,
        err(429, "Throttling.RateQuota"),
        OK,
        err(429, "Throttling.RateQuota", mid_stream=True, chunks=2),  # logged as 400
        err(500, "InternalError"),
        OK,
        err(401, "InvalidApiKey"),
        err(400, "DataInspectionFailed", mid_stream=True, chunks=1),
        err(429, "Throttling.AllocationQuota"),
    ],
    model_in_error_record=True,
    notes=(
        "one JSON object per call with the SDK's values: mid-stream errors are logged with "
        "status_code 400 (true status in the truth), successes with code '' and message ''."
    ),
)

DS_SDK_DEBUG = AppSpec(
    name="ds_sdk_debug",
    script="ds_sdk_debug.py",
    api="native",
    calls=_calls(
        ["qwen-plus", "qwen-plus", "qwen-max", "qwen-max", "qwen-turbo", "qwen-plus"],
        [False, False, True, True, True, False],
    ),
    plan=[
        OK,
        err(429, "Throttling.RateQuota"),  # plain call: the SDK's debug log shows nothing of it
        err(429, "Throttling.RateQuota", mid_stream=True, chunks=2),
        OK,
        err(500, "InternalError", mid_stream=True, chunks=0),
        err(401, "InvalidApiKey"),
    ],
    output="stderr",
    shows_every_attempt=False,
    visible_errors=(2, 4),  # the stream errors' "Stream message:" lines
    notes=(
        "only the SDK's own logging (DASHSCOPE_LOGGING_LEVEL=debug, its default format). "
        "Non-stream HTTP errors leave only the 'Request body:' line (no status, code or id): "
        "invisible. Stream errors appear as 'Stream message: {python dict with code, message, "
        "request_id}' with no status. Successes: 'Response: {...}' / 'Stream message: {...}'."
    ),
)

# dashscope 2.x Client: max_retries=2 on 408/409/429/5xx, honours retry-after-ms.
DS_V2_CLIENT = AppSpec(
    name="ds_v2_client",
    script="ds_v2_client.py",
    api="native",
    calls=_calls(
        [
            "qwen-plus",
            "qwen-plus",
            "qwen-max",
            "qwen-max",
            "qwen-turbo",
            "qwen-plus",
            "qwen-plus",
            "qwen-max",
            "qwen3-coder-plus",
        ],
        [False, False, True, False, False, True, False, True, False],
    ),
    plan=[
        err(429, "Throttling.RateQuota"),  # 1: retried, then OK
        OK,
        err(401, "InvalidApiKey"),  # 2
        err(429, "Throttling.RateQuota", mid_stream=True, chunks=2),  # 3 (stream)
        err(500, "InternalError"),  # 4: three attempts -> InternalServerError
        err(500, "InternalError"),
        err(500, "InternalError"),
        OK,  # 5
        err(400, "DataInspectionFailed"),  # 6 (stream): HTTP 400 before the stream starts
        err(400, "Arrearage"),  # 7
        err(500, "InternalError", mid_stream=True, chunks=0),  # 8 (stream)
        err(503, "ModelUnavailable"),  # 9: retried, then OK
        OK,
    ],
    code_not_logged=(0, 4, 5, 11),
    notes=(
        "dashscope 2.0.2 dashscope.Client (native protocol), max_retries=2. Every attempt has "
        "an httpx status line; each retried attempt also has 'dashscope.v2.transport retrying "
        "POST /services/aigc/text-generation/generation in 0.01s (attempt n/2): status <s> "
        "(request_id=<rid>)' (status and id, no code). Final failures are tracebacks ending in "
        "'dashscope.v2.errors.<Class>: <<Class>> <message> | code=<code> | status_code=<s> | "
        "request_id=<rid>'; for errors that arrive mid-stream status_code is 200; Arrearage "
        "raises PermissionDeniedError with status_code=400."
    ),
)

APPS: dict[str, AppSpec] = {
    a.name: a for a in (DS_NATIVE, DS_STREAM, OPENAI_COMPAT, JSONL, DS_SDK_DEBUG, DS_V2_CLIENT)
}
