// The official OpenAI client against `prima serve`: chat and text completions, streaming and not, usage, models,
// errors, and concurrent requests that must each get what they would get alone (greedy).
import assert from "node:assert/strict";
import { test, after } from "node:test";
import OpenAI from "openai";
import { fixture, startServer } from "./server.mjs";

const server = await startServer(["-m", fixture("stories260K-F32.gguf"), "-c", "256", "-np", "4",
  "--chat-template", "chatml", "-t", "2", "--api-key", "test-key"]);
after(async () => { assert.equal(await server.stop(), 0, server.log()); });

const client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "test-key", maxRetries: 0, timeout: 30000 });
const messages = [{ role: "system", content: "You tell stories." }, { role: "user", content: "Tell me about a cat." }];

test("chat completion", async () => {
  const r = await client.chat.completions.create({ model: "stories", messages, max_tokens: 32, temperature: 0 });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, "assistant");
  assert.ok(r.choices[0].message.content.length > 0);
  assert.ok(["stop", "length"].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test("streaming chat equals non-streaming, with usage", async () => {
  const whole = await client.chat.completions.create({ model: "stories", messages, max_tokens: 40, temperature: 0 });
  const stream = await client.chat.completions.create({
    model: "stories", messages, max_tokens: 40, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = "", chunks = 0, usage = null, finish = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length > 0) {
      text += chunk.choices[0].delta.content ?? "";
      finish = chunk.choices[0].finish_reason ?? finish;
      chunks += 1;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.ok(chunks >= 3, `only ${chunks} chunks`);
  assert.deepEqual(usage.completion_tokens, whole.usage.completion_tokens);
});

test("text completions, streaming and not", async () => {
  const whole = await client.completions.create({ model: "stories", prompt: "Once upon a time", max_tokens: 24, temperature: 0 });
  assert.equal(whole.object, "text_completion");
  const stream = await client.completions.create({ model: "stories", prompt: "Once upon a time", max_tokens: 24, temperature: 0, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, whole.choices[0].text);
  assert.equal(whole.usage.completion_tokens, 24);
});

test("stop sequences", async () => {
  const whole = await client.completions.create({ model: "stories", prompt: "Once upon a time", max_tokens: 60, temperature: 0 });
  const t = whole.choices[0].text;
  const stop = t.slice(20, 24);
  const r = await client.completions.create({ model: "stories", prompt: "Once upon a time", max_tokens: 60, temperature: 0, stop: [stop] });
  assert.equal(r.choices[0].text, t.slice(0, t.indexOf(stop)));
  assert.equal(r.choices[0].finish_reason, "stop");
});

test("four concurrent requests each get their own completion", async () => {
  const prompts = ["Tell me about a cat.", "Tell me about a dog.", "What is the sun?", "Sing a song about rain."];
  const ask = (p, stream) => {
    const body = { model: "stories", messages: [{ role: "user", content: p }], max_tokens: 48, temperature: 0 };
    if (!stream) return client.chat.completions.create(body).then((r) => r.choices[0].message.content);
    return client.chat.completions.create({ ...body, stream: true }).then(async (s) => {
      let text = "";
      for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
      return text;
    });
  };
  const alone = [];
  for (const p of prompts) alone.push(await ask(p, false));
  const together = await Promise.all(prompts.map((p, i) => ask(p, i % 2 === 0)));
  assert.deepEqual(together, alone);
  assert.equal(new Set(alone).size, alone.length, "different prompts, different answers");
});

test("models", async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  assert.deepEqual(ids, ["stories260K-F32"]);
});

test("errors reach the client as APIError with the status", async () => {
  await assert.rejects(
    client.chat.completions.create({ model: "stories", messages, max_tokens: -1 }),
    (e) => e instanceof OpenAI.APIError && e.status === 400 && /max_tokens/.test(e.message));
  const bad = new OpenAI({ baseURL: server.url + "/v1", apiKey: "wrong", maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});
