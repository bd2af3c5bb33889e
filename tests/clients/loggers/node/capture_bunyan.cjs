// notes: bunyan: JSON lines with "time" (ISO, UTC), numeric "level", "msg", and the error under
// "err" through bunyan.stdSerializers.err (message, name, stack, code, signal only).
"use strict";
const { run } = require("./_scenario.cjs");
const bunyan = require("bunyan");

const log = bunyan.createLogger({ name: "assistant", serializers: bunyan.stdSerializers, stream: process.stdout });
run({
  ok: (request_id, model) => log.info({ request_id, model }, "chat ok"),
  exception: (err, model, request_id) => log.error({ err, model, ...(request_id ? { request_id } : {}) }, "qwen call failed"),
  fields: (status_code, code, message, request_id, model) =>
    log.error({ status_code, code, error_message: message, request_id, model }, "qwen call failed"),
  errorText: (error, request_id, model) => log.error({ error, request_id, model }, "qwen call failed"),
}).catch((e) => { console.error(e); process.exit(1); });
