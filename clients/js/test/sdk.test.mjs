// LangGraph's own JS SDK (@langchain/langgraph-sdk 1.15.0) against stategraph's `serve`
// example: the assistants, runs in several stream modes, messages-tuple chunks merged into
// messages, subgraph events, join and reconnect after a Last-Event-ID (a stateless run's
// too), cancel, an interrupt resumed with a command, and errors.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AIMessageChunk } from "@langchain/core/messages";
import { Client } from "@langchain/langgraph-sdk";

import { collect, startServer, untilStatus } from "./server.mjs";

const AGENT_ID = "fe096781-5601-53d2-b2f6-0d3403f7e9ca";
const INPUT = { topic: "cats" };

let server;
let client;

before(async () => {
  server = await startServer();
  client = new Client({ apiUrl: server.url, apiKey: null });
});

after(async () => {
  await server?.stop();
});

const events = (parts) => parts.map((part) => part.event);

/** The chunks of `messages` events merged by message id, as LangChain merges them. */
function mergeChunks(parts) {
  const merged = new Map();
  for (const part of parts) {
    if (!part.event.startsWith("messages")) continue;
    const [chunk, metadata] = part.data;
    const { type: _type, ...fields } = chunk;
    const next = new AIMessageChunk(fields);
    const known = merged.get(chunk.id);
    merged.set(chunk.id, {
      chunk: known ? known.chunk.concat(next) : next,
      metadata,
      count: (known?.count ?? 0) + 1,
    });
  }
  return merged;
}

describe("assistants", () => {
  test("an assistant is found by its graph id and by LangGraph's id", async () => {
    const byGraph = await client.assistants.get("agent");
    assert.equal(byGraph.assistant_id, AGENT_ID);
    assert.equal(byGraph.graph_id, "agent");
    assert.deepEqual(await client.assistants.get(AGENT_ID), byGraph);
    const found = await client.assistants.search({ metadata: { created_by: "system" }, limit: 100 });
    assert.deepEqual(
      new Set(found.map((a) => a.graph_id)),
      new Set(["agent", "chat", "nested", "failing", "approval", "gated", "release", "crawl"]),
    );
    const nested = await client.assistants.search({ graphId: "nested" });
    assert.deepEqual(nested.map((a) => a.graph_id), ["nested"]);
  });

  test("the graph and its schemas", async () => {
    const graph = await client.assistants.getGraph("chat");
    assert.deepEqual(
      new Set(graph.nodes.map((node) => node.id)),
      new Set(["__start__", "reply", "review", "__end__"]),
    );
    assert.deepEqual(
      new Set(graph.edges.map((edge) => `${edge.source}->${edge.target}`)),
      new Set(["__start__->reply", "reply->review", "review->__end__"]),
    );
    const schemas = await client.assistants.getSchemas("agent");
    assert.equal(schemas.graph_id, "agent");
    assert.deepEqual(Object.keys(schemas.input_schema.properties).sort(), ["joke", "poem", "topic"]);
  });
});

describe("stream modes", () => {
  test("values is the default and starts with the run's metadata", async () => {
    const runIds = [];
    const parts = await collect(
      client.runs.stream(null, "agent", { input: INPUT, onRunCreated: (meta) => runIds.push(meta.run_id) }),
    );
    assert.deepEqual(events(parts), ["metadata", "values", "values"]);
    assert.equal(parts[0].data.run_id, runIds[0]);
    assert.deepEqual(parts[1].data, { topic: "cats", joke: "", poem: "" });
    assert.match(parts[2].data.joke, /^Why was the cat sitting on the computer\?/);
  });

  test("updates names the node", async () => {
    const parts = await collect(client.runs.stream(null, "agent", { input: INPUT, streamMode: "updates" }));
    assert.deepEqual(events(parts), ["metadata", "updates"]);
    assert.match(parts[1].data.call_model.poem, /^In sunlit patches/);
  });

  test("messages-tuple chunks merge into the messages of the final state", async () => {
    const thread = await client.threads.create();
    const input = { messages: [{ id: "m-1", type: "human", content: "hello there" }] };
    const parts = await collect(
      client.runs.stream(thread.thread_id, "chat", { input, streamMode: ["messages-tuple", "values"] }),
    );
    const merged = mergeChunks(parts);
    assert.equal(merged.size, 1);
    const [[id, { chunk, metadata, count }]] = merged;
    assert.ok(count > 10, `one chunk a word, got ${count}`);
    assert.equal(metadata.langgraph_node, "reply");
    assert.equal(metadata.graph_id, "chat");
    assert.equal(metadata.thread_id, thread.thread_id);
    assert.match(chunk.content, /^You wrote "hello there"\. This is message 1 of this thread\./);
    assert.equal(chunk.response_metadata.finish_reason, "stop");
    assert.ok(chunk.usage_metadata.output_tokens > 0);
    const state = await client.threads.getState(thread.thread_id);
    const [human, ai] = state.values.messages;
    assert.deepEqual([human.id, human.type, human.content], ["m-1", "human", "hello there"]);
    assert.deepEqual([ai.id, ai.type, ai.content], [id, "ai", chunk.content]);
    // The last values event is that state.
    assert.deepEqual(parts.filter((p) => p.event === "values").at(-1).data, state.values);
  });

  test("messages-tuple on the guide's graph: two messages, tagged", async () => {
    const parts = await collect(client.runs.stream(null, "agent", { input: INPUT, streamMode: "messages-tuple" }));
    assert.equal(parts.filter((p) => p.event === "messages").length, parts.length - 1);
    const merged = [...mergeChunks(parts).values()];
    assert.equal(merged.length, 2);
    const joke = merged.find(({ metadata }) => metadata.tags?.includes("joke"));
    assert.match(joke.chunk.content, /^Why was the cat sitting on the computer\?/);
    assert.equal(joke.metadata.langgraph_node, "call_model");
    assert.equal(joke.metadata.assistant_id, AGENT_ID);
    assert.equal(joke.metadata.run_id, parts[0].data.run_id);
  });

  test("custom and debug", async () => {
    const parts = await collect(client.runs.stream(null, "agent", { input: INPUT, streamMode: ["custom", "debug"] }));
    const custom = parts.filter((p) => p.event === "custom").map((p) => p.data);
    assert.deepEqual(custom, [{ note: "asking for a joke" }, { note: "asking for a poem" }]);
    const debug = parts.filter((p) => p.event === "debug").map((p) => p.data);
    assert.deepEqual(debug.map((d) => d.type), ["task", "task_result"]);
    assert.equal(debug[0].payload.name, "call_model");
    assert.equal(debug[1].payload.error, null);
    assert.match(debug[1].payload.result.joke, /^Why was the cat sitting on the computer\?/);
  });

  test("subgraph events carry their namespace in the event name", async () => {
    const parts = await collect(
      client.runs.stream(null, "nested", {
        input: INPUT,
        streamMode: ["messages-tuple", "custom", "updates"],
        streamSubgraphs: true,
      }),
    );
    const nested = parts.filter((p) => p.event.includes("|"));
    assert.deepEqual(new Set(nested.map((p) => p.event.split("|")[0])), new Set(["messages", "custom"]));
    const namespaces = new Set(nested.map((p) => p.event.split("|").slice(1).join("|")));
    assert.equal(namespaces.size, 1);
    assert.match([...namespaces][0], /^tell:/);
    assert.deepEqual(parts.at(-1).event, "updates");
    assert.match(parts.at(-1).data.tell.joke, /^Why was the cat/);
    const quiet = await collect(
      client.runs.stream(null, "nested", { input: INPUT, streamMode: ["messages-tuple", "custom", "updates"] }),
    );
    assert.deepEqual(events(quiet), ["metadata", "updates"]);
  });
});

describe("stored runs", () => {
  const openGate = async () => assert.deepEqual(await client.runs.wait(null, "release", { input: {} }), { passed: 0 });

  test("joinStream after a Last-Event-ID gets only the later events", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "gated", {
      input: {},
      streamMode: ["values", "updates"],
      streamResumable: true,
    });
    await untilStatus(client, thread.thread_id, run.run_id, "running");
    await openGate();
    assert.deepEqual(await client.runs.join(thread.thread_id, run.run_id), { passed: 1 });
    const every = await collect(client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: "-1" }));
    assert.deepEqual(events(every), ["metadata", "values", "updates", "values"]);
    assert.deepEqual(every.at(-1).data, { passed: 1 });
    assert.ok(every.every((part) => typeof part.id === "string" && part.id !== ""), "every event has an id");
    const later = await collect(client.runs.joinStream(thread.thread_id, run.run_id, { lastEventId: every[1].id }));
    assert.deepEqual(
      later.map((p) => [p.event, p.data]),
      every.slice(2).map((p) => [p.event, p.data]),
    );
  });

  test("joinStream(null, runId) joins a resumable stateless run after a Last-Event-ID", async () => {
    const stream = client.runs
      .stream(null, "gated", { input: {}, streamMode: ["values", "updates"], streamResumable: true })
      [Symbol.asyncIterator]();
    const first = (await stream.next()).value;
    const second = (await stream.next()).value;
    assert.equal(first.event, "metadata");
    const runId = first.data.run_id;
    // Joined while the run waits at the gate: the join replays after the id, then follows.
    const joined = client.runs.joinStream(null, runId, { lastEventId: first.id })[Symbol.asyncIterator]();
    const rejoined = [(await joined.next()).value];
    await openGate();
    const every = [first, second];
    for (let part = await stream.next(); !part.done; part = await stream.next()) every.push(part.value);
    for (let part = await joined.next(); !part.done; part = await joined.next()) rejoined.push(part.value);
    assert.deepEqual(events(every), ["metadata", "values", "updates", "values"]);
    assert.ok(every.every((part) => typeof part.id === "string" && part.id !== ""), "every event has an id");
    assert.deepEqual(
      rejoined.map((p) => [p.event, p.data, p.id]),
      every.slice(1).map((p) => [p.event, p.data, p.id]),
    );
  });

  test("a dropped stream reconnects with Last-Event-ID and misses nothing", async () => {
    const { createServer, request } = await import("node:http");
    const target = new URL(server.url);
    const seen = [];
    let dropped = false;
    // A proxy that cuts the first run stream after a few of its events.
    const proxy = createServer((incoming, outgoing) => {
      seen.push({ method: incoming.method, url: incoming.url, lastEventId: incoming.headers["last-event-id"] });
      const upstream = request(
        { host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (response) => {
          outgoing.writeHead(response.statusCode, response.headers);
          const cut = !dropped && incoming.method === "POST" && incoming.url.endsWith("/runs/stream");
          if (!cut) {
            response.pipe(outgoing);
            return;
          }
          dropped = true;
          let events = 0;
          response.on("end", () => outgoing.end());
          response.on("data", (bytes) => {
            outgoing.write(bytes);
            events += bytes.toString().split("event:").length - 1;
            if (events >= 6) {
              response.destroy();
              outgoing.socket.destroy();
            }
          });
        },
      );
      incoming.pipe(upstream);
    });
    await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const viaProxy = new Client({ apiUrl: `http://127.0.0.1:${proxy.address().port}`, apiKey: null });
      const thread = await viaProxy.threads.create();
      const input = { messages: [{ id: "m-1", type: "human", content: "reconnect" }] };
      const parts = await collect(
        viaProxy.runs.stream(thread.thread_id, "chat", {
          input,
          streamMode: ["messages-tuple", "values"],
          streamResumable: true,
        }),
      );
      const rejoin = seen.find((request) => request.method === "GET" && request.url.includes("/stream"));
      assert.ok(rejoin, `the SDK rejoined the run: ${JSON.stringify(seen)}`);
      assert.ok(rejoin.lastEventId, "the rejoin names the last event it got");
      const ai = (await client.threads.getState(thread.thread_id)).values.messages[1];
      const [{ chunk }] = [...mergeChunks(parts).values()];
      assert.equal(chunk.content, ai.content);
      assert.deepEqual(parts.filter((p) => p.event === "values").at(-1).data.messages[1].content, ai.content);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  test("cancel stops a run and frees its thread", async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, "gated", { input: {} });
    await untilStatus(client, thread.thread_id, run.run_id, "running");
    await client.runs.cancel(thread.thread_id, run.run_id, true);
    assert.equal((await client.runs.get(thread.thread_id, run.run_id)).status, "interrupted");
    assert.equal((await client.threads.get(thread.thread_id)).status, "idle");
  });

  test("an interrupt on `approval` is resumed with a command", async () => {
    const thread = await client.threads.create();
    const parts = await collect(
      client.runs.stream(thread.thread_id, "approval", { input: { task: "deploy" }, streamMode: ["updates", "values"] }),
    );
    const asked = parts.filter((p) => p.event === "updates" && "__interrupt__" in p.data);
    assert.equal(asked.length, 1);
    const [question] = asked[0].data.__interrupt__;
    assert.deepEqual(question.value, { question: "may I deploy?" });
    assert.equal(typeof question.id, "string");
    assert.deepEqual(parts.filter((p) => p.event === "values").at(-1).data.__interrupt__, [question]);
    assert.equal((await client.threads.get(thread.thread_id)).status, "interrupted");
    const state = await client.threads.getState(thread.thread_id);
    assert.deepEqual(state.next, ["approve"]);

    const resumed = await collect(
      client.runs.stream(thread.thread_id, "approval", { command: { resume: "yes" }, streamMode: "updates" }),
    );
    assert.deepEqual(
      resumed.filter((p) => p.event === "updates").map((p) => p.data),
      [{ approve: { approved: true, log: ["answered yes"] } }, { act: { log: ["did deploy"] } }],
    );
    const done = await client.threads.get(thread.thread_id);
    assert.equal(done.status, "idle");
    assert.deepEqual(done.values.log, ["planned deploy", "answered yes", "did deploy"]);
  });
});

describe("errors", () => {
  test("a node failing mid-stream ends with an error event", async () => {
    const parts = await collect(client.runs.stream(null, "failing", { input: INPUT, streamMode: "messages-tuple" }));
    assert.deepEqual(events(parts), ["metadata", "messages", "messages", "messages", "error"]);
    assert.equal(parts.slice(1, 4).map((p) => p.data[0].content).join(""), "Why did the");
    assert.deepEqual(parts.at(-1).data, { error: "NodeError", message: "node `joke` failed in step 1" });
    await assert.rejects(client.runs.wait(null, "failing", { input: INPUT }), /NodeError: node `joke` failed in step 1/);
  });

  test("unknown assistants and threads are not found; bad input is unprocessable", async () => {
    await assert.rejects(client.assistants.get("nobody"), (error) => error.status === 404);
    await assert.rejects(collect(client.runs.stream(null, "nobody", { input: INPUT })), (error) => error.status === 404);
    await assert.rejects(client.threads.get("00000000-0000-4000-8000-000000000000"), (error) => error.status === 404);
    await assert.rejects(collect(client.runs.stream(null, "agent", { input: { topic: 5 } })), (error) => {
      assert.equal(error.status, 422);
      assert.match(error.message, /input\.topic: invalid type: integer `5`, expected a string/);
      return true;
    });
  });
});
