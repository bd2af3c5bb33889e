// LangChain.js: ChatOpenAI (@langchain/openai, compatible mode) and ChatAlibabaTongyi
// (@langchain/community, native endpoint) against the fake server (run by hand, README.md).
// notes: ChatOpenAI(maxRetries: 1) on openai-node: the error is openai-node's, with LangChain's
// notes: lc_error_code and troubleshooting URL added (MODEL_RATE_LIMIT, MODEL_AUTHENTICATION);
// notes: LangChain's caller does not retry a 429 without rate-limit headers. ChatAlibabaTongyi (maxRetries: 0) throws
// notes: new Error(body.message) for a native error body (no status, no code, no request id)
// notes: and 'Tongyi call failed with status code 429: undefined' when streaming.
"use strict";
const { COMPAT, NATIVE_URL, plan, OK, err, banner, pinoLogger } = require("./_capture.cjs");
const { ChatOpenAI } = require("@langchain/openai");
const { ChatAlibabaTongyi } = require("@langchain/community/chat_models/alibaba_tongyi");

async function main() {
  banner("langchain");
  const pino = pinoLogger();
  const openai = new ChatOpenAI({
    model: "qwen-plus",
    apiKey: "sk-test",
    maxRetries: 1,
    configuration: { baseURL: COMPAT },
  });
  const tongyi = new ChatAlibabaTongyi({
    model: "qwen-plus",
    alibabaApiKey: "sk-test",
    apiUrl: NATIVE_URL,
    maxRetries: 0,
  });
  const q = "用一句话介绍你自己。";

  async function ask(chat, how, stream = false) {
    try {
      let text = "";
      if (stream) for await (const c of await chat.stream(q)) text += c.content;
      else text = (await chat.invoke(q)).content;
      pino.info({ model: "qwen-plus" }, `answer: ${text}`);
    } catch (e) {
      const now = new Date().toISOString();
      if (how === "inspect") console.error(`${now} ERROR chain failed`, e);
      else if (how === "message") console.error(`${now} ERROR chain failed: ${e.message}`);
      else if (how === "pino") pino.error({ err: e }, "chain failed");
    }
  }

  await plan(OK);
  await ask(openai, "pino");
  await plan(err(429, "Throttling.RateQuota")); // LangChain does not retry a headerless 429
  await ask(openai, "inspect");
  await plan(err(401, "InvalidApiKey"));
  await ask(openai, "pino");
  await plan(err(400, "DataInspectionFailed"));
  await ask(openai, "message");
  await plan(OK);
  await ask(tongyi, "pino");
  await plan(err(429, "Throttling.RateQuota"));
  await ask(tongyi, "inspect");
  await plan(err(400, "InvalidParameter"));
  await ask(tongyi, "message");
  await plan(err(500, "InternalError"));
  await ask(tongyi, "pino", true);
}

main();
