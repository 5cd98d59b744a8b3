// Starts the `serve` example (with its test graphs) on a free 127.0.0.1 port, as the Python
// suite's conftest does: the binary is STATEGRAPH_SERVE_BIN, the address its first stdout line.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export async function startServer(extraArgs = []) {
  const binary = process.env.STATEGRAPH_SERVE_BIN;
  if (!binary) {
    throw new Error("STATEGRAPH_SERVE_BIN is unset: run these tests through scripts/js-sdk-tests.sh");
  }
  const env = { ...process.env };
  delete env.OPENAI_BASE_URL;
  delete env.OPENAI_API_KEY;
  // Threads go to a fresh SQLite file: the SDK drives the SQL store end to end.
  const directory = mkdtempSync(join(tmpdir(), "stategraph-js-"));
  env.STATEGRAPH_DB = `sqlite://${directory}/threads.db`;
  const child = spawn(binary, ["--port", "0", "--with-test-graphs", ...extraArgs], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const lines = createInterface({ input: child.stdout });
  const url = await Promise.race([
    new Promise((resolve) => lines.once("line", resolve)),
    exited.then((code) => {
      throw new Error(`the server exited (${code}) before printing its address`);
    }),
  ]);
  if (!url.startsWith("http://127.0.0.1:")) {
    child.kill();
    throw new Error(`the server did not print its address (got ${JSON.stringify(url)})`);
  }
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Every part of an SDK stream, in order. */
export async function collect(stream) {
  const parts = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** Polls `runs.get` until the run has `status`; bounded by the test runner's timeout. */
export async function untilStatus(client, threadId, runId, status) {
  for (;;) {
    const run = await client.runs.get(threadId, runId);
    if (run.status === status) return run;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Polls `runs.get` until the run has ended (neither pending nor running); its record. */
export async function untilEnded(client, threadId, runId) {
  for (;;) {
    const run = await client.runs.get(threadId, runId);
    if (run.status !== "pending" && run.status !== "running") return run;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
