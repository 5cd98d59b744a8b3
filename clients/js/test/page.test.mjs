// The `serve` example's chat page (useStream from @langchain/langgraph-sdk/react) in headless
// Chromium: tokens render progressively with their node, the final messages equal the
// thread's state, the thread list, stop cancels the run on the server, a reload mid-run
// rejoins the stream, approve after an interrupt finishes the run, and the page's headers.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { Client } from "@langchain/langgraph-sdk";

import { launch, openPage, send, shownMessages, threadOf, untilWords } from "./browser.mjs";
import { startServer, untilEnded } from "./server.mjs";

// Replies stream one word every 100 ms: a reply of ~37 words takes ~3.7 s, time enough for a
// test to stop or reload the page while it streams.
const REPLY_END = "together with the node that produced it.";
// Screenshots go to STATEGRAPH_SCREENSHOTS when set (the README's come from there), else to a
// temporary directory.
const SHOTS = process.env.STATEGRAPH_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), "stategraph-shots-"));

let server;
let client;
let browser;

before(async () => {
  server = await startServer(["--token-delay-ms", "100"]);
  client = new Client({ apiUrl: server.url, apiKey: null });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The thread's messages as [type, id, text] each, read with the SDK. */
async function stateMessages(threadId) {
  const state = await client.threads.getState(threadId);
  return state.values.messages.map((m) => [m.type, m.id, m.content]);
}

async function untilIdle(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid="state"]').textContent === "idle", null, {
    timeout: 0,
  });
}

describe("the chat page", () => {
  test("is served with headers that keep it to its own origin", async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type"), /^text\/html/);
    assert.match(page.headers.get("content-security-policy"), /default-src 'self'/);
    assert.match(page.headers.get("content-security-policy"), /script-src 'self';/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    assert.match(await page.text(), /<script type="module" src="\/page\.js"><\/script>/);
    const script = await fetch(`${server.url}/page.js`);
    assert.match(script.headers.get("content-type"), /^text\/javascript/);
    assert.equal(script.headers.get("x-content-type-options"), "nosniff");
  });

  test("tokens render progressively with their node; the end equals the thread's state", async () => {
    const { page, problems } = await openPage(browser, `${server.url}/`);
    const nodes = await page.$$eval('[data-testid="graph"] [data-node]', (g) => g.map((n) => n.dataset.node));
    assert.deepEqual(nodes.sort(), ["__end__", "__start__", "reply", "review"]);
    await send(page, "hello there");
    await page.getByText(REPLY_END, { exact: false }).waitFor({ timeout: 0 });
    await untilIdle(page);
    const renders = await page.evaluate(() => window.__renders);
    const final = renders.at(-1);
    assert.match(final, /^You wrote "hello there"\. This is message 1 of this thread\./);
    // Every render before the last is a shorter prefix of the next: the reply grew word by word.
    assert.ok(renders.length >= 10, `several distinct renders before the end, got ${renders.length}`);
    for (let i = 1; i < renders.length; i += 1) {
      assert.ok(renders[i].startsWith(renders[i - 1]) && renders[i].length > renders[i - 1].length, renders[i]);
    }
    assert.equal(await page.locator('[data-type="ai"] [data-testid="node"]').textContent(), "reply");
    const threadId = threadOf(page);
    assert.ok(threadId, "the page puts its thread in the URL");
    assert.deepEqual(await shownMessages(page), await stateMessages(threadId));
    // The thread list finds it by metadata; another thread and back shows the same messages.
    const listed = page.locator(`[data-thread-id="${threadId}"]`);
    await listed.getByText("hello there").waitFor({ timeout: 0 });
    await page.getByTestId("new-thread").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="messages"] > li').length === 0);
    await listed.click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="messages"] > li').length === 2);
    assert.deepEqual(await shownMessages(page), await stateMessages(threadId));
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("stop cancels the run on the server", async () => {
    const { page, problems } = await openPage(browser, `${server.url}/`);
    await send(page, "stop me");
    await untilWords(page, 4);
    await page.getByTestId("stop").click();
    await untilIdle(page);
    const threadId = threadOf(page);
    const runId = await page.getByTestId("run-id").getAttribute("data-run-id");
    assert.ok(runId, "the page knows its run");
    assert.equal((await untilEnded(client, threadId, runId)).status, "interrupted");
    assert.equal((await client.threads.get(threadId)).status, "idle");
    // The reply never finished: the thread holds the question only.
    assert.deepEqual((await stateMessages(threadId)).map(([type]) => type), ["human"]);
    const shown = await page.locator('[data-type="ai"] [data-testid="content"]').allTextContents();
    assert.ok(shown.every((text) => !text.includes(REPLY_END)), `the page shows a cut reply: ${shown}`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("a reload mid-run rejoins the stream and shows the rest", async () => {
    const { page, problems } = await openPage(browser, `${server.url}/`);
    const joins = [];
    page.on("request", (request) => {
      if (request.method() === "GET" && /\/threads\/[^/]+\/runs\/[^/]+\/stream/.test(request.url())) {
        joins.push(request.url());
      }
    });
    await send(page, "reload me");
    await untilWords(page, 4);
    const threadId = threadOf(page);
    await page.reload();
    // The page is back while the run still streams: it rejoins a live run.
    const [{ status }] = await client.runs.list(threadId);
    assert.equal(status, "running");
    await page.getByText(REPLY_END, { exact: false }).waitFor({ timeout: 0 });
    await untilIdle(page);
    assert.equal(joins.length, 1, `the reloaded page joined the run's stream: ${joins}`);
    assert.equal(threadOf(page), threadId);
    // After the reload the reply grew again render by render, from the replayed stream.
    const renders = await page.evaluate(() => window.__renders);
    assert.ok(renders.length >= 3, `renders after the reload: ${JSON.stringify(renders)}`);
    assert.ok(renders.at(-1).endsWith(REPLY_END));
    const messages = await shownMessages(page);
    assert.deepEqual(messages, await stateMessages(threadId));
    assert.deepEqual(messages.map(([type]) => type), ["human", "ai"]);
    const [{ run_id: runId }] = await client.runs.list(threadId);
    assert.equal((await client.runs.get(threadId, runId)).status, "success");
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("approve after an interrupt finishes the run", async () => {
    mkdirSync(SHOTS, { recursive: true });
    const { page, problems } = await openPage(browser, `${server.url}/`);
    await send(page, "please deploy the site");
    await untilWords(page, 12);
    await page.screenshot({ path: join(SHOTS, "serve-page-mid-stream.png") });
    const payload = page.getByTestId("interrupt-payload");
    await payload.waitFor({ timeout: 0 });
    assert.deepEqual(JSON.parse(await payload.textContent()), {
      question: "May I deploy?",
      request: "please deploy the site",
    });
    const threadId = threadOf(page);
    assert.equal((await client.threads.get(threadId)).status, "interrupted");
    await page.getByTestId("approve").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-type="ai"]').length === 2, null, { timeout: 0 });
    await untilIdle(page);
    await page.locator(`[data-thread-id="${threadId}"] .status.idle`).waitFor({ timeout: 0 });
    await page.screenshot({ path: join(SHOTS, "serve-page-after.png") });
    const nodes = await page.locator('[data-type="ai"] [data-testid="node"]').allTextContents();
    assert.deepEqual(nodes, ["reply", "review"]);
    assert.equal(await page.getByTestId("interrupt").count(), 0);
    const thread = await client.threads.get(threadId);
    assert.equal(thread.status, "idle");
    assert.deepEqual(thread.interrupts, {});
    const messages = await shownMessages(page);
    assert.deepEqual(messages, await stateMessages(threadId));
    assert.equal(messages.at(-1)[2], "Approved: deploying now.");
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe("on a server started with --api-key", () => {
  let keyed;

  before(async () => {
    keyed = await startServer(["--token-delay-ms", "20", "--api-key", "alice=alice-secret"]);
  });

  after(async () => {
    await keyed?.stop();
  });

  test("the page is refused until given the key, then works", async () => {
    const page = await browser.context.newPage();
    const refused = [];
    page.on("response", (response) => {
      if (response.status() === 401) refused.push(new URL(response.url()).pathname);
    });
    // The page itself needs no key; what it asks the server does.
    await page.goto(`${keyed.url}/`);
    await page.getByText("Could not load the graph").waitFor({ timeout: 0 });
    assert.ok(refused.includes("/assistants/chat/graph"), `refused: ${refused}`);
    await page.getByTestId("api-key").fill("alice-secret");
    await page.getByTestId("use-api-key").click();
    await page.getByTestId("graph").waitFor({ timeout: 0 });
    await send(page, "with a key");
    await page.getByText(REPLY_END, { exact: false }).waitFor({ timeout: 0 });
    await untilIdle(page);
    const alice = new Client({ apiUrl: keyed.url, apiKey: "alice-secret" });
    const state = await alice.threads.getState(threadOf(page));
    assert.deepEqual(
      await shownMessages(page),
      state.values.messages.map((m) => [m.type, m.id, m.content]),
    );
    await page.close();
  });
});
