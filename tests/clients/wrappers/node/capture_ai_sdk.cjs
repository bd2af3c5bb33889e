// Vercel AI SDK (ai + @ai-sdk/openai-compatible, and @ai-sdk/alibaba) on the compatible-mode
// endpoint of the fake server (run by hand, README.md).
// notes: generateText/streamText with the AI SDK's own retries (maxRetries 2 by default: a
// notes: retried failure ends as AI_RetryError holding every attempt's AI_APICallError, each
// notes: with statusCode, responseHeaders and responseBody); maxRetries: 0 throws the
// notes: AI_APICallError itself. Logged with console.error(err), err.message and pino.
"use strict";
const { COMPAT, plan, OK, err, banner, pinoLogger } = require("./_capture.cjs");
const { generateText, streamText } = require("ai");
const { createOpenAICompatible } = require("@ai-sdk/openai-compatible");
const { createAlibaba } = require("@ai-sdk/alibaba");

async function main() {
  banner("ai-sdk");
  const pino = pinoLogger();
  const compat = createOpenAICompatible({ name: "dashscope", baseURL: COMPAT, apiKey: "sk-test" });
  const alibaba = createAlibaba({ baseURL: COMPAT, apiKey: "sk-test" });
  const prompt = "用一句话介绍你自己。";

  async function ask(how, opts = {}) {
    const model = (opts.alibaba ? alibaba : compat)("qwen-plus");
    try {
      let text;
      if (opts.stream) {
        const r = streamText({
          model,
          prompt,
          maxRetries: opts.retries ?? 2,
          onError: ({ error }) => pino.error({ err: error }, "stream failed"),
        });
        text = "";
        for await (const t of r.textStream) text += t;
      } else {
        const r = await generateText({ model, prompt, maxRetries: opts.retries ?? 2 });
        text = r.text;
      }
      pino.info({ model: "qwen-plus" }, `answer: ${text}`);
    } catch (e) {
      const now = new Date().toISOString();
      if (how === "inspect") console.error(`${now} ERROR chat failed`, e);
      else if (how === "message") console.error(`${now} ERROR chat failed: ${e.message}`);
      else if (how === "pino") pino.error({ err: e }, "chat failed");
    }
  }

  await plan(OK);
  await ask("pino");
  await plan(err(401, "InvalidApiKey")); // not retried (not retryable)
  await ask("inspect");
  await plan(err(429, "Throttling.RateQuota"), err(429, "Throttling.RateQuota"), OK);
  await ask("inspect"); // two retried failures, then an answer: nothing in the log
  await plan(err(500, "InternalError"), err(500, "InternalError"), err(500, "InternalError"));
  await ask("inspect"); // AI_RetryError with the three attempts
  await plan(err(400, "DataInspectionFailed"));
  await ask("message", { retries: 0 });
  await plan(err(429, "Throttling.AllocationQuota"));
  await ask("pino", { retries: 0 });
  await plan(err(400, "InvalidParameter"));
  await ask("inspect", { alibaba: true, retries: 0 });
  await plan(err(429, "Throttling.RateQuota"));
  await ask("pino", { alibaba: true, retries: 0, stream: true });
}

main();
