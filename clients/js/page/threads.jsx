// The thread list, as agent-chat-ui's sidebar finds it: threads.search by the assistant's
// graph_id in their metadata, newest first. `version` changes when a run starts or ends.
import { useEffect, useState } from "react";

function title(thread) {
  const first = thread.values?.messages?.find((message) => message.type === "human");
  const text = typeof first?.content === "string" ? first.content : "";
  return text || thread.thread_id.slice(0, 8);
}

export function ThreadList({ client, graphId, current, version, onSelect }) {
  const [threads, setThreads] = useState([]);
  useEffect(() => {
    let live = true;
    client.threads
      .search({ metadata: { graph_id: graphId }, limit: 20 })
      .then((found) => live && setThreads(found), () => live && setThreads([]));
    return () => {
      live = false;
    };
  }, [client, graphId, current, version]);
  return (
    <nav className="threads">
      <button type="button" className="new" data-testid="new-thread" onClick={() => onSelect(null)}>
        New chat
      </button>
      <ul data-testid="thread-list">
        {threads.map((thread) => (
          <li key={thread.thread_id}>
            <button
              type="button"
              data-thread-id={thread.thread_id}
              className={thread.thread_id === current ? "thread current" : "thread"}
              onClick={() => onSelect(thread.thread_id)}
            >
              <span className="title">{title(thread)}</span>
              <span className={`status ${thread.status}`}>{thread.status}</span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
