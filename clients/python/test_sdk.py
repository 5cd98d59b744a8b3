"""LangGraph's own Python SDK (langgraph-sdk 0.4.14) against stategraph's server: stateless
runs in every stream mode, several at once, subgraphs, the assistant endpoints, errors."""

import httpx
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

AGENT_ID = "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
INPUT = {"topic": "cats"}


def parts(client, assistant="agent", **kwargs):
    return list(client.runs.stream(None, assistant, input=INPUT, **kwargs))


def events(stream_parts):
    return [part.event for part in stream_parts]


def test_the_assistant_is_found_by_graph_id_and_by_its_langgraph_id(client):
    by_graph = client.assistants.get("agent")
    assert by_graph["assistant_id"] == AGENT_ID
    assert by_graph["graph_id"] == "agent"
    assert client.assistants.get(AGENT_ID) == by_graph
    found = client.assistants.search(metadata={"created_by": "system"}, limit=100)
    assert {a["graph_id"] for a in found} == {"agent", "chat", "nested", "failing", "approval", "gated", "release", "crawl"}
    assert [a["graph_id"] for a in client.assistants.search(graph_id="nested")] == ["nested"]


def test_the_graph_and_schemas_endpoints(client):
    graph = client.assistants.get_graph("agent")
    assert {node["id"] for node in graph["nodes"]} == {"__start__", "call_model", "__end__"}
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {
        ("__start__", "call_model"),
        ("call_model", "__end__"),
    }
    schemas = client.assistants.get_schemas("agent")
    assert schemas["graph_id"] == "agent"
    assert set(schemas["input_schema"]["properties"]) == {"topic", "joke", "poem"}


def test_values_mode_is_the_default_and_starts_with_metadata(client):
    run_ids = []
    stream = parts(client, on_run_created=lambda meta: run_ids.append(meta["run_id"]))
    assert events(stream) == ["metadata", "values", "values"]
    assert stream[0].data["run_id"] == run_ids[0]
    assert stream[1].data == {"topic": "cats", "joke": "", "poem": ""}
    assert stream[2].data["joke"].startswith("Why was the cat sitting on the computer?")


def test_updates_mode(client):
    stream = parts(client, stream_mode="updates")
    assert events(stream) == ["metadata", "updates"]
    assert stream[1].data["call_model"]["poem"].startswith("In sunlit patches")


def test_messages_tuple_chunks_are_langchain_message_chunks(client):
    stream = parts(client, stream_mode="messages-tuple")
    messages = [part for part in stream if part.event == "messages"]
    assert len(messages) == len(stream) - 1
    chunks = [AIMessageChunk(**chunk) for chunk, _ in (part.data for part in messages)]
    joke = [c for c, (_, meta) in zip(chunks, (p.data for p in messages)) if meta.get("tags") == ["joke"]]
    whole = joke[0]
    for chunk in joke[1:]:
        whole = whole + chunk
    assert whole.content.startswith("Why was the cat sitting on the computer?")
    assert whole.usage_metadata["output_tokens"] > 0
    assert whole.response_metadata["finish_reason"] == "stop"
    _, metadata = messages[0].data
    assert metadata["langgraph_node"] == "call_model"
    assert metadata["graph_id"] == "agent"
    assert metadata["assistant_id"] == AGENT_ID
    assert metadata["run_id"] == stream[0].data["run_id"]


def test_messages_mode_sends_partial_then_complete_messages(client):
    stream = parts(client, stream_mode="messages")
    names = events(stream)
    assert names.count("messages/metadata") == 2
    assert names.count("messages/complete") == 2
    complete = [AIMessage(**part.data[0]) for part in stream if part.event == "messages/complete"]
    assert complete[0].content.endswith("mouse!")
    partial = [part.data[0] for part in stream if part.event == "messages/partial"]
    assert partial[0]["content"] == "Why" and partial[1]["content"] == "Why was"


def test_custom_debug_and_tasks_modes(client):
    stream = parts(client, stream_mode=["custom", "debug", "tasks"])
    custom = [part.data for part in stream if part.event == "custom"]
    assert custom == [{"note": "asking for a joke"}, {"note": "asking for a poem"}]
    debug = [part.data for part in stream if part.event == "debug"]
    assert [d["type"] for d in debug] == ["task", "task_result"]
    tasks = [part.data for part in stream if part.event == "tasks"]
    assert tasks == [d["payload"] for d in debug]
    assert tasks[0]["name"] == "call_model" and tasks[1]["error"] is None


def test_several_modes_at_once_in_the_v2_shape(client):
    stream = list(
        client.runs.stream(
            None, "agent", input=INPUT, stream_mode=["values", "updates", "messages-tuple", "custom"], version="v2"
        )
    )
    types = [part["type"] for part in stream]
    assert types[0] == "metadata"
    assert types[1] == "values"
    assert types.index("custom") < types.index("messages") < types.index("updates") < len(types) - 1
    assert types[-1] == "values"
    assert all(part["ns"] == [] for part in stream)


def test_subgraph_events_carry_their_namespace(client):
    stream = list(
        client.runs.stream(
            None, "nested", input=INPUT, stream_mode=["messages-tuple", "custom", "updates"],
            stream_subgraphs=True, version="v2",
        )
    )
    nested = [part for part in stream if part["ns"]]
    assert {part["type"] for part in nested} == {"messages", "custom"}
    namespace = nested[0]["ns"]
    assert len(namespace) == 1 and namespace[0].startswith("tell:")
    assert all(part["ns"] == namespace for part in nested)
    assert stream[-1]["type"] == "updates" and stream[-1]["ns"] == []
    quiet = list(client.runs.stream(None, "nested", input=INPUT, stream_mode=["messages-tuple", "custom", "updates"]))
    assert events(quiet) == ["metadata", "updates"]


def test_wait_returns_the_final_state(client):
    state = client.runs.wait(None, "agent", input=INPUT)
    assert state["topic"] == "cats"
    assert state["poem"].startswith("In sunlit patches")


def test_a_node_failing_mid_stream_ends_with_an_error_event(client):
    stream = parts(client, "failing", stream_mode="messages-tuple")
    assert events(stream) == ["metadata", "messages", "messages", "messages", "error"]
    assert "".join(part.data[0]["content"] for part in stream[1:4]) == "Why did the"
    assert stream[-1].data == {"error": "NodeError", "message": "node `joke` failed in step 1"}
    with pytest.raises(Exception, match="NodeError: node `joke` failed in step 1"):
        client.runs.wait(None, "failing", input=INPUT)


def test_an_unknown_assistant_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.assistants.get("nobody")
    with pytest.raises(NotFoundError):
        list(client.runs.stream(None, "nobody", input=INPUT))


def test_bad_input_is_unprocessable_and_names_the_field(client):
    with pytest.raises(UnprocessableEntityError) as error:
        list(client.runs.stream(None, "agent", input={"topic": 5}))
    assert "input.topic: invalid type: integer `5`, expected a string" in str(error.value.response.text)
    with pytest.raises(UnprocessableEntityError) as error:
        list(client.runs.stream(None, "agent", input=INPUT, stream_mode="everything"))
    assert "stream_mode: unknown mode `everything`" in error.value.response.text


def test_heartbeat_free_health_endpoints(server_url):
    assert httpx.get(f"{server_url}/ok").json() == {"ok": True}
    info = httpx.get(f"{server_url}/info").json()
    assert info["flags"]["assistants"] is True
