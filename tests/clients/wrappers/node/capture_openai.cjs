// openai-node on the compatible-mode endpoint of the fake server (run by hand, README.md).
// notes: new OpenAI({baseURL: <compatible-mode>}) with the SDK's default maxRetries (2) unless
// notes: set; the SDK retries 429/5xx silently (nothing in the log unless its debug logging is
// notes: on), so only the final failure of a call is written. Failures are logged as Node apps
// notes: do: console.error(err) (util.inspect with status/headers/error), String(err),
// notes: err.message in a timestamped line, pino logger.error({err}), winston logger.error.
"use strict";
const { COMPAT, plan, OK, err, banner, pinoLogger, winstonLogger } = require("./_capture.cjs");
const OpenAI = require("openai");

async function main() {
  banner("openai-node");
  const pino = pinoLogger();
  const winston = winstonLogger();
  const client = new OpenAI({ apiKey: "sk-test", baseURL: COMPAT });
  const once = new OpenAI({ apiKey: "sk-test", baseURL: COMPAT, maxRetries: 0 });
  const messages = [{ role: "user", content: "用一句话介绍你自己。" }];

  async function ask(how, c = client, stream = false) {
    try {
      let text = "";
      if (stream) {
        const s = await c.chat.completions.create({ model: "qwen-plus", messages, stream: true });
        for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? "";
      } else {
        const r = await c.chat.completions.create({ model: "qwen-plus", messages });
        text = r.choices[0].message.content;
      }
      pino.info({ model: "qwen-plus" }, `answer: ${text}`);
    } catch (e) {
      const now = new Date().toISOString();
      if (how === "inspect") console.error(e);
      else if (how === "inspect-prefixed") console.error(`${now} ERROR chat failed:`, e);
      else if (how === "string") console.error(String(e));
      else if (how === "message") console.error(`${now} ERROR chat failed: ${e.message}`);
      else if (how === "pino") pino.error({ err: e }, "chat failed");
      else if (how === "winston") winston.error("chat failed", e);
      else if (how === "winston-meta")
        winston.error("chat failed", { status: e.status, error: e.error, headers: e.headers });
    }
  }

  await plan(OK);
  await ask("pino");
  await plan(err(429, "Throttling.RateQuota"), OK); // retried by the SDK, then answered
  await ask("inspect");
  await plan(err(401, "InvalidApiKey"));
  await ask("inspect");
  await plan(err(400, "DataInspectionFailed"));
  await ask("string");
  await plan(err(400, "InvalidParameter"));
  await ask("inspect-prefixed");
  await plan(err(500, "InternalError"), err(500, "InternalError"), err(500, "InternalError"));
  await ask("pino"); // gives up after two retries
  await plan(err(429, "Throttling.AllocationQuota"));
  await ask("winston", once);
  await plan(err(429, "Throttling.RateQuota"));
  await ask("pino", once, true);
  await plan(err(400, "Arrearage"));
  await ask("message");
  await plan(err(401, "InvalidApiKey"));
  await ask("winston-meta", once);
}

main();
