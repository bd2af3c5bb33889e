// Shared set-up of the Node captures (run by hand through run_node.py; see README.md).
"use strict";

const BASE = process.env.FAKE_BASE; // http://127.0.0.1:<port> of the fake DashScope server
const COMPAT = `${BASE}/compatible-mode/v1`;
const NATIVE_URL = `${BASE}/api/v1/services/aigc/text-generation/generation`;

/** Queue the outcomes of the next calls: plan([429, "Throttling.RateQuota"], [200, null]). */
async function plan(...outcomes) {
  const r = await fetch(process.env.FAKE_CONTROL, {
    method: "POST",
    body: JSON.stringify(outcomes),
  });
  if (r.status !== 204) throw new Error(`plan failed: ${r.status}`);
}

const OK = [200, null];
const err = (status, code, midStream = false) => [status, code, midStream];

/** The libraries' versions (run_node.py passes them), written once at the top of the log. */
function banner(name) {
  console.log(`${new Date().toISOString()} INFO capture ${name} ${process.env.CAPTURE_VERSIONS}`);
}

function pinoLogger() {
  const pino = require("pino");
  return pino({ base: { pid: process.pid, hostname: "web-1" } }, pino.destination({ fd: 1, sync: true }));
}

function winstonLogger() {
  const winston = require("winston");
  return winston.createLogger({
    level: "info",
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}

module.exports = { BASE, COMPAT, NATIVE_URL, plan, OK, err, banner, pinoLogger, winstonLogger };
