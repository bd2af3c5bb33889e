// The DashScope calls every Node logger capture makes (see ../README.md): the real openai npm
// package on the compatible-mode endpoint (no retries) and fetch on the native endpoint, with
// the outcomes queued on the loopback fake server through run_node.py's control endpoint.
// A capture gives run() a log adapter: ok / exception / fields / errorText, as ../_scenario.py.
"use strict";

const { COMPAT, NATIVE_URL, plan, OK, err } = require("../../wrappers/node/_capture.cjs");

const MODEL = "qwen-plus";
const PROMPT = "用一句话介绍你自己。";

async function native() {
  const r = await fetch(NATIVE_URL, {
    method: "POST",
    headers: { Authorization: "Bearer sk-test", "Content-Type": "application/json" },
    body: JSON.stringify({ model: MODEL, input: { messages: [{ role: "user", content: PROMPT }] } }),
  });
  return { status: r.status, body: await r.json() };
}

async function run(log) {
  const OpenAI = require("openai");
  const client = new OpenAI({ baseURL: COMPAT, apiKey: "sk-test", maxRetries: 0 });
  const compat = () =>
    client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: PROMPT }] });
  const rid = (e) => e.requestID || e.request_id || null;

  await plan(OK); // 1 a success on the compatible endpoint
  const resp = await compat();
  log.ok(resp._request_id, MODEL);
  await plan(err(429, "Throttling.RateQuota")); // 2 a 429 with its error object, no id beside
  try { await compat(); } catch (e) { log.exception(e, MODEL, null); }
  await plan(err(401, "InvalidApiKey")); // 3 the native body's fields
  let r = await native();
  log.fields(r.status, r.body.code, r.body.message, r.body.request_id, MODEL);
  await plan(err(500, "InternalError")); // 4 String(err) in an "error" field, the id beside it
  try { await compat(); } catch (e) { log.errorText(String(e), rid(e), MODEL); }
  await plan(OK); // 5 a native success
  r = await native();
  log.ok(r.body.request_id, MODEL);
  await new Promise((ok) => setTimeout(ok, 50));
  await plan(err(400, "DataInspectionFailed")); // 6 the error object and its id
  try { await compat(); } catch (e) { log.exception(e, MODEL, rid(e)); }
  await plan(err(429, "Throttling.AllocationQuota")); // 7 native fields
  r = await native();
  log.fields(r.status, r.body.code, r.body.message, r.body.request_id, MODEL);
  await plan(OK); // 8 a native success
  r = await native();
  log.ok(r.body.request_id, MODEL);
  await new Promise((ok) => setTimeout(ok, 100)); // let async transports drain
}

module.exports = { run, MODEL };
