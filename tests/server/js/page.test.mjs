// The built-in page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core), over a ring of
// two workers and the head: a chat streams in, and the cluster view shows every device. Saves a screenshot to
// $PRIMA_ARTIFACTS/server-page.png.
//
// The model is a random-weight "small" shape cut to 6 layers (`prima synth`, made once in the work directory):
// at ~60 tokens/s on a loaded CI machine an answer takes a second or two, so streaming is visible in the page
// (stories260K answers in a few milliseconds, all in one paint).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { test, after } from "node:test";
import { chromium } from "playwright-core";
import { startServer, startWorker } from "./server.mjs";

const model = `${process.cwd()}/page-small6-q4km-s1.gguf`;
if (!existsSync(model))
  execFileSync(process.env.PRIMA_BINARY, ["synth", "--shape", "small", "--type", "Q4_K_M", "--n-layer", "6", "--seed", "1",
    "-o", model], { stdio: "inherit" });
const workers = [await startWorker(model, "w1"), await startWorker(model, "w2")];
const server = await startServer(["-m", model, "-c", "512", "-np", "2", "--chat-template", "chatml", "-t", "1",
  "--workers", workers.map((w) => w.address).join(","), "--listen", "127.0.0.1:0", "--plan", "even"]);
const browser = await chromium.launch({
  executablePath: process.env.PRIMA_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-dev-shm-usage"],
});
after(async () => {
  await browser.close();
  assert.equal(await server.stop(), 0, server.log());
  for (const w of workers) w.stop();
});

test("chat streams in and the cluster view shows every device", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/");

  // Cluster view: one row per device the engine reports, head last.
  const cluster = await (await fetch(server.url + "/cluster")).json();
  assert.equal(cluster.devices.length, 3);
  await page.waitForFunction((n) => document.querySelectorAll("#devices tr.device").length === n, cluster.devices.length,
    { timeout: 10000 });
  const names = await page.$$eval("#devices tr.device", (rows) => rows.map((r) => r.dataset.name));
  assert.deepEqual(names, cluster.devices.map((d) => d.name));
  const rows = await page.$$eval("#devices tr.device", (rows) => rows.map((r) => r.innerText));
  assert.match(rows[0], /127\.0\.0\.1:\d+/);  // a worker's address
  assert.match(rows[2], /this process/);      // the head
  assert.match(rows[2], /GiB/);
  assert.match(rows[0], /0–1/);               // its layer window (6 layers: 2, 2, 2)
  assert.match(await page.innerText("#summary"), /3 devices/);

  // Chat: greedy, so the page's answer can be checked against the API's.
  await page.click("details summary");
  await page.fill("#temperature", "0");
  await page.fill("#max-tokens", "80");
  await page.evaluate(() => {
    // Record the answer's length every time it changes: streaming means it grows in several steps.
    window.lengths = [];
    new MutationObserver(() => {
      const a = document.querySelector(".msg.assistant .text");
      if (a) window.lengths.push(a.textContent.length);
    }).observe(document.getElementById("messages"), { childList: true, subtree: true, characterData: true });
  });
  await page.fill("#input", "Tell me a story about a brave little cat.");
  await page.press("#input", "Enter");
  await page.waitForSelector('.msg.assistant[data-done="true"]', { timeout: 30000 });
  const answer = await page.textContent(".msg.assistant .text");
  const chunks = Number(await page.getAttribute(".msg.assistant", "data-chunks"));
  const lengths = await page.evaluate(() => window.lengths.filter((n) => n > 0));
  assert.ok(answer.length > 0, "an answer");
  assert.ok(chunks >= 5, `the answer came in ${chunks} chunk(s)`);
  assert.ok(new Set(lengths).size >= 3, `the text grew in steps: ${lengths}`);
  assert.match(await page.innerText(".msg.assistant .meta"), /tokens/);

  const api = await (await fetch(server.url + "/v1/chat/completions", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "Tell me a story about a brave little cat." }], temperature: 0, max_tokens: 80 }),
  })).json();
  assert.equal(answer, api.choices[0].message.content);

  // The cluster view now shows the last step's timings.
  await page.waitForFunction(() => /tokens\/s [1-9]/.test(document.getElementById("summary").innerText), null, { timeout: 10000 });
  const dir = process.env.PRIMA_ARTIFACTS || ".";
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: `${dir}/server-page.png`, fullPage: true });
  assert.deepEqual(errors, []);
});
