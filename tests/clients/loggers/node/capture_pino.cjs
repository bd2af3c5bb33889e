// notes: pino defaults: one JSON object per line, "time" in epoch ms, numeric "level" (50 =
// error), the error under "err" (pino's serializer: type, message, stack and openai-node's own
// properties: status, headers, requestID, error, code).
"use strict";
const { run } = require("./_scenario.cjs");
const pino = require("pino");

const log = pino({ base: { pid: process.pid, hostname: "web-1" } }, pino.destination({ fd: 1, sync: true }));
run({
  ok: (request_id, model) => log.info({ request_id, model }, "chat ok"),
  exception: (err, model, request_id) => log.error({ err, model, ...(request_id ? { request_id } : {}) }, "qwen call failed"),
  fields: (status_code, code, message, request_id, model) =>
    log.error({ status_code, code, error_message: message, request_id, model }, "qwen call failed"),
  errorText: (error, request_id, model) => log.error({ error, request_id, model }, "qwen call failed"),
}).catch((e) => { console.error(e); process.exit(1); });
