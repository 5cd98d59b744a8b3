// A chat on `useStream` from @langchain/langgraph-sdk/react, served by the `serve` example at
// `/`: tokens as they arrive with their node, the final messages, the thread list, a stop
// button that cancels the run on the server, an interrupt's payload with approve / reject,
// and the assistant's graph. The thread is in the URL (`?thread=`), and `reconnectOnMount`
// keeps the run's id in sessionStorage, so a reload mid-run rejoins its stream. On a server
// started with `--api-key`, the key typed in the sidebar goes with every request
// (`x-api-key`); it is kept in sessionStorage, so it lasts as long as the tab.
import { StrictMode, useCallback, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { Client } from "@langchain/langgraph-sdk";
import { useStream } from "@langchain/langgraph-sdk/react";

import { GraphView } from "./graph.jsx";
import { ThreadList } from "./threads.jsx";
import "./page.css";

const ASSISTANT = "chat";
const KEY_STORAGE = "stategraph:api-key";

function clientWith(apiKey) {
  return new Client({ apiUrl: window.location.origin, apiKey: apiKey || null });
}

function threadFromUrl() {
  return new URL(window.location.href).searchParams.get("thread");
}

function showThreadInUrl(threadId) {
  const url = new URL(window.location.href);
  if (threadId) url.searchParams.set("thread", threadId);
  else url.searchParams.delete("thread");
  window.history.replaceState(null, "", url);
}

/** A v4 UUID for a new message; crypto.randomUUID needs a secure context, this does not. */
function uuid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function text(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === "string" ? part : part.text ?? "")).join("");
  return "";
}

function Message({ message, node }) {
  const who = message.type === "human" ? "you" : "assistant";
  return (
    <li className={`message ${message.type}`} data-type={message.type} data-id={message.id ?? ""}>
      <div className="meta">
        <span className="who">{who}</span>
        {node ? (
          <span className="node" data-testid="node">
            {node}
          </span>
        ) : null}
      </div>
      <div className="content" data-testid="content">
        {text(message.content)}
      </div>
    </li>
  );
}

function Interrupt({ interrupt, onAnswer, disabled }) {
  return (
    <section className="interrupt" data-testid="interrupt">
      <h2>The run is waiting for an answer</h2>
      <pre data-testid="interrupt-payload">{JSON.stringify(interrupt.value, null, 2)}</pre>
      <div className="buttons">
        <button type="button" data-testid="approve" disabled={disabled} onClick={() => onAnswer("approve")}>
          Approve
        </button>
        <button type="button" data-testid="reject" disabled={disabled} onClick={() => onAnswer("reject")}>
          Reject
        </button>
      </div>
    </section>
  );
}

function ApiKey({ apiKey, onChange }) {
  const [draft, setDraft] = useState(apiKey);
  const use = (event) => {
    event.preventDefault();
    onChange(draft.trim());
  };
  return (
    <form className="api-key" onSubmit={use}>
      <input
        type="password"
        data-testid="api-key"
        value={draft}
        placeholder="API key, if asked"
        autoComplete="off"
        onChange={(event) => setDraft(event.target.value)}
      />
      <button type="submit" data-testid="use-api-key">
        Use
      </button>
    </form>
  );
}

function App() {
  const [apiKey, setApiKey] = useState(() => window.sessionStorage.getItem(KEY_STORAGE) ?? "");
  const client = useMemo(() => clientWith(apiKey), [apiKey]);
  const chooseKey = useCallback((key) => {
    window.sessionStorage.setItem(KEY_STORAGE, key);
    setApiKey(key);
  }, []);
  const [threadId, setThreadId] = useState(threadFromUrl);
  const [draft, setDraft] = useState("");
  const [runId, setRunId] = useState(null);
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  const selectThread = useCallback((id) => {
    setThreadId(id);
    showThreadInUrl(id);
  }, []);

  const thread = useStream({
    client,
    assistantId: ASSISTANT,
    threadId,
    onThreadId: selectThread,
    reconnectOnMount: true,
    onCreated: (run) => {
      setRunId(run.run_id);
      refresh();
    },
    onFinish: refresh,
    onStop: refresh,
    onError: refresh,
  });

  const messages = thread.messages;
  const interrupt = thread.interrupt;
  const busy = thread.isLoading;

  const send = (event) => {
    event.preventDefault();
    const content = draft.trim();
    if (!content || busy) return;
    const message = { id: uuid(), type: "human", content };
    setDraft("");
    thread.submit(
      { messages: [message] },
      { optimisticValues: (prev) => ({ ...prev, messages: [...(prev.messages ?? []), message] }) },
    );
  };

  const answer = (resume) => thread.submit(null, { command: { resume } });

  return (
    <div className="layout">
      <aside>
        <h1>stategraph</h1>
        <ApiKey apiKey={apiKey} onChange={chooseKey} />
        <ThreadList client={client} graphId={ASSISTANT} current={threadId} version={version} onSelect={selectThread} />
        <h2>Graph</h2>
        <GraphView client={client} assistantId={ASSISTANT} />
      </aside>
      <main>
        <header>
          <span className="thread-id" data-testid="thread-id">
            {threadId ? `thread ${threadId}` : "new thread"}
          </span>
          <span className="run" data-testid="run-id" data-run-id={runId ?? ""}>
            {runId ? `run ${runId.slice(0, 8)}` : ""}
          </span>
          <span className={busy ? "state busy" : "state idle"} data-testid="state">
            {busy ? "streaming" : "idle"}
          </span>
        </header>
        <ol className="messages" data-testid="messages">
          {messages.map((message, index) => (
            <Message
              key={message.id ?? index}
              message={message}
              node={thread.getMessagesMetadata(message, index)?.streamMetadata?.langgraph_node}
            />
          ))}
        </ol>
        {interrupt?.value !== undefined ? <Interrupt interrupt={interrupt} onAnswer={answer} disabled={busy} /> : null}
        {thread.error ? (
          <p className="error" data-testid="error">
            {String(thread.error?.message ?? thread.error)}
          </p>
        ) : null}
        <form onSubmit={send}>
          <input
            data-testid="input"
            value={draft}
            placeholder="Say something (mention “deploy” to be asked for approval)"
            onChange={(event) => setDraft(event.target.value)}
          />
          <button type="submit" data-testid="send" disabled={busy || !draft.trim()}>
            Send
          </button>
          <button type="button" data-testid="stop" disabled={!busy} onClick={() => thread.stop()}>
            Stop
          </button>
        </form>
      </main>
    </div>
  );
}

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
