"""Who may see what, through LangGraph's own SDK: two identities with API keys
(`api_key=`, sent as `x-api-key`) against the example served with `--api-key`."""

import httpx
import pytest
from langgraph_sdk import get_sync_client

from conftest import serve

ALICE_KEY = "sk-alice-0123456789"
BOB_KEY = "sk-bob-9876543210"


@pytest.fixture(scope="module")
def auth_url():
    yield from serve("--api-key", f"alice={ALICE_KEY}", "--api-key", f"bob={BOB_KEY}")


def status_of(call):
    with pytest.raises(httpx.HTTPStatusError) as raised:
        call()
    return raised.value.response.status_code


def test_a_thread_and_its_runs_are_its_creators_only(auth_url):
    alice = get_sync_client(url=auth_url, api_key=ALICE_KEY)
    bob = get_sync_client(url=auth_url, api_key=BOB_KEY)
    thread = alice.threads.create(metadata={"topic": "cats"})
    assert thread["metadata"]["owner"] == "alice"
    tid = thread["thread_id"]
    final = alice.runs.wait(tid, "agent", input={"topic": "cats"})
    assert final["joke"]
    run = alice.runs.list(tid)[0]

    assert status_of(lambda: bob.threads.get(tid)) == 404
    assert status_of(lambda: bob.threads.get_state(tid)) == 404
    assert status_of(lambda: bob.threads.get_history(tid)) == 404
    assert status_of(lambda: bob.threads.update(tid, metadata={"owner": "bob"})) == 404
    assert status_of(lambda: bob.runs.list(tid)) == 404
    assert status_of(lambda: bob.runs.get(tid, run["run_id"])) == 404
    assert status_of(lambda: bob.runs.join(tid, run["run_id"])) == 404
    assert status_of(lambda: bob.runs.wait(tid, "agent", input={"topic": "dogs"})) == 404
    assert status_of(lambda: list(bob.runs.join_stream(tid, run["run_id"]))) == 404
    assert status_of(lambda: list(bob.runs.stream(tid, "agent", input={"topic": "dogs"}))) == 404
    assert status_of(lambda: bob.threads.delete(tid)) == 404

    assert [t["thread_id"] for t in bob.threads.search()] == []
    assert [t["thread_id"] for t in bob.threads.search(metadata={"owner": "alice"})] == []
    assert [t["thread_id"] for t in alice.threads.search()] == [tid]
    # Nothing bob sent changed alice's thread.
    assert alice.threads.get_state(tid)["values"]["topic"] == "cats"
    assert len(alice.runs.list(tid)) == 1


def test_no_key_or_a_wrong_one_is_401_and_ok_stays_open(auth_url):
    for key in (None, "sk-alice-wrong"):
        client = get_sync_client(url=auth_url, api_key=key)
        assert status_of(lambda: client.threads.search()) == 401
        assert status_of(lambda: client.assistants.search()) == 401
    assert httpx.get(f"{auth_url}/ok").status_code == 200
    # Assistants are everyone's.
    bob = get_sync_client(url=auth_url, api_key=BOB_KEY)
    assert "agent" in [a["graph_id"] for a in bob.assistants.search()]
