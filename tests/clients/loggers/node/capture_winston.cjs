// notes: winston 3 Console transport, format.timestamp() (ISO, UTC) with format.json() (FORMAT=json)
// or format.simple() ('error: <message> {json of the rest}', the timestamp inside that JSON;
// FORMAT=simple); format.errors({stack: true}) and logger.error(msg, err) for errors.
"use strict";
const { run } = require("./_scenario.cjs");
const winston = require("winston");

const simple = process.env.FORMAT === "simple";
const log = winston.createLogger({
  level: "info",
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.errors({ stack: true }),
    simple ? winston.format.simple() : winston.format.json(),
  ),
  transports: [new winston.transports.Console()],
});
run({
  ok: (request_id, model) => log.info("chat ok", { request_id, model }),
  exception: (err, model, request_id) => {
    // winston's errors() reads an Error passed as the meta: message joined, stack kept
    err.model = model;
    if (request_id) err.request_id = request_id;
    log.error("qwen call failed:", err);
  },
  fields: (status_code, code, message, request_id, model) =>
    log.error("qwen call failed", { status_code, code, error_message: message, request_id, model }),
  errorText: (error, request_id, model) => log.error("qwen call failed", { error, request_id, model }),
}).catch((e) => { console.error(e); process.exit(1); });
