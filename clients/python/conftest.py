"""Starts the `serve` example (with its test graphs) on a free 127.0.0.1 port for the session."""

import os
import subprocess
import tempfile

import pytest
from langgraph_sdk import get_sync_client


def serve(*extra_args):
    """Runs the example on a free port with a fresh SQLite file; yields its URL."""
    binary = os.environ.get("STATEGRAPH_SERVE_BIN")
    if not binary:
        pytest.fail("STATEGRAPH_SERVE_BIN is unset: run these tests through scripts/python-sdk-tests.sh")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    # Threads go to a fresh SQLite file: the SDK drives the SQL store end to end.
    database = tempfile.TemporaryDirectory()
    env["STATEGRAPH_DB"] = f"sqlite://{database.name}/threads.db"
    process = subprocess.Popen(
        [binary, "--port", "0", "--with-test-graphs", *extra_args],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            pytest.fail(f"the server did not print its address (got {url!r})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        database.cleanup()


@pytest.fixture(scope="session")
def server_url():
    yield from serve()


@pytest.fixture
def client(server_url):
    return get_sync_client(url=server_url, api_key=None)
