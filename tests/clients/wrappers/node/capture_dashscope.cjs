// The npm package "dashscope" (1.0.1, an unofficial wrapper: fetch + response.json()) on the
// native endpoint of the fake server (run by hand, README.md).
// notes: dashscope's payload(url, data, apiKey) resolves to the parsed body whatever the HTTP
// notes: status (no throw, no status): apps print it with console.log(result) (util.inspect:
// notes: { code: '...', message: '...', request_id: '...' }) or JSON.stringify. Its index.js
// notes: does not load under Node's ESM resolution, so src/request.js is imported directly
// notes: and pointed at the fake server (the package hard-codes dashscope.aliyuncs.com).
"use strict";
const { NATIVE_URL, plan, OK, err, banner, pinoLogger } = require("./_capture.cjs");

async function main() {
  banner("dashscope");
  const { payload } = await import(require.resolve("dashscope/src/request.js"));
  const pino = pinoLogger();
  const data = {
    model: "qwen-plus",
    input: { messages: [{ role: "user", content: "用一句话介绍你自己。" }] },
    parameters: {},
  };

  async function ask(how) {
    const result = await payload(NATIVE_URL, data, "sk-test");
    if (result.output) {
      pino.info({ request_id: result.request_id, model: "qwen-plus" }, "call ok");
      return;
    }
    const now = new Date().toISOString();
    if (how === "inspect") console.log(`${now} ERROR chat failed:`, result);
    else if (how === "bare") console.log(result);
    else if (how === "json") console.error(`${now} ERROR chat failed: ${JSON.stringify(result)}`);
    else if (how === "pino") pino.error({ result }, "chat failed");
  }

  await plan(OK);
  await ask("inspect");
  await plan(err(429, "Throttling.RateQuota"));
  await ask("inspect");
  await plan(err(401, "InvalidApiKey"));
  await ask("bare");
  await plan(err(400, "DataInspectionFailed"));
  await ask("json");
  await plan(err(500, "InternalError"));
  await ask("pino");
}

main();
