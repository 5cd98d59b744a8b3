// Headless Chromium from Debian's package (/usr/bin/chromium, never a downloaded build),
// driven by playwright-core, with a fresh profile each launch since tests run as root.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// Runs in the page before its own scripts, on every load: records each distinct text of
// the last assistant message, so a test counts the renders a stream made.
function recordRenders() {
  window.__renders = [];
  new MutationObserver(() => {
    const shown = document.querySelectorAll('[data-type="ai"] [data-testid="content"]');
    const last = shown.length === 0 ? null : shown[shown.length - 1].textContent;
    if (last !== null && window.__renders[window.__renders.length - 1] !== last) window.__renders.push(last);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "stategraph-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 640 },
  });
  await context.addInitScript(recordRenders);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new tab whose console errors and uncaught exceptions are collected in `problems`. */
export async function openPage(browser, url) {
  const page = await browser.context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  await page.goto(url);
  await page.getByTestId("graph").waitFor();
  return { page, problems };
}

/** The messages the page shows: [type, id, text] each. */
export function shownMessages(page) {
  return page.$$eval('[data-testid="messages"] > li', (items) =>
    items.map((item) => [item.dataset.type, item.dataset.id, item.querySelector('[data-testid="content"]').textContent]),
  );
}

/** The thread the page is on, from its URL. */
export function threadOf(page) {
  return new URL(page.url()).searchParams.get("thread");
}

/** Waits until the last assistant message has at least `words` words. */
export async function untilWords(page, words) {
  await page.waitForFunction(
    (count) => {
      const shown = document.querySelectorAll('[data-type="ai"] [data-testid="content"]');
      const last = shown[shown.length - 1]?.textContent ?? "";
      return last.split(" ").filter(Boolean).length >= count;
    },
    words,
    { timeout: 0 },
  );
}

export async function send(page, text) {
  await page.getByTestId("input").fill(text);
  await page.getByTestId("send").click();
}
