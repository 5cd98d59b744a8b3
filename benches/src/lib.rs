//! Shared pieces of stategraph's benchmarks: the graphs under test, a model that makes its
//! chunks on demand, an in-process SSE server, and a counting allocator.
//!
//! Every benchmark measures a baseline in the same run, so the ratio holds on a noisy
//! machine; `scripts/bench` runs them all and prints one table.

pub mod alloc;
pub mod graphs;
pub mod models;
pub mod sse_server;

/// One `chat.completion.chunk` event as OpenAI streams it, with `token` as its content.
pub fn sse_event(token: &str) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1795465721,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_0\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n",
        serde_json::Value::from(token)
    )
}

/// A whole streamed answer of `chunks` content events, a finish event, a usage event and
/// `[DONE]`, as bytes: what the decoding and HTTP benchmarks replay.
pub fn recorded_stream(chunks: usize) -> Vec<u8> {
    let mut body = String::new();
    body.push_str("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1795465721,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
    for i in 0..chunks {
        body.push_str(&sse_event(if i % 2 == 0 { " token" } else { "s" }));
    }
    body.push_str("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1795465721,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    body.push_str("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1795465721,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":100000,\"total_tokens\":100010}}\n\n");
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

/// A whole streamed answer as separate events, shaped as OpenAI sends them today (with
/// `service_tier` and `obfuscation`, about 270 bytes each): `chunks` content events, a
/// finish event, a usage event and `[DONE]`. What the chunked HTTP benchmark sends, one
/// HTTP chunk per event.
pub fn recorded_events(chunks: usize) -> Vec<Vec<u8>> {
    const HEAD: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1795465721,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_0","choices":"#;
    let event =
        |choices: &str, tail: &str| format!("data: {HEAD}{choices}{tail}}}\n\n").into_bytes();
    let mut events = vec![event(
        r#"[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]"#,
        r#","obfuscation":"p1M4QzRw""#,
    )];
    for i in 0..chunks {
        let token = if i % 2 == 0 { " token" } else { "s" };
        events.push(event(
            &format!(
                r#"[{{"index":0,"delta":{{"content":{}}},"logprobs":null,"finish_reason":null}}]"#,
                serde_json::Value::from(token)
            ),
            r#","obfuscation":"Jd2kX9""#,
        ));
    }
    events.push(event(
        r#"[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]"#,
        r#","obfuscation":"vB7""#,
    ));
    events.push(event(
        "[]",
        r#","usage":{"prompt_tokens":10,"completion_tokens":100000,"total_tokens":100010}"#,
    ));
    events.push(b"data: [DONE]\n\n".to_vec());
    events
}

/// For the plain (`harness = false`) benchmark binaries: `cargo bench` first runs each
/// with `--list`, and expects the benchmark's name back instead of a run. Whether this
/// run is such a listing (the name is then printed).
pub fn listing_only(name: &str) -> bool {
    let listing = std::env::args().any(|arg| arg == "--list");
    if listing {
        println!("{name}: bench");
    }
    listing
}

/// The runtime the multi-threaded benchmarks use: two workers, as the CI machine has
/// two cores.
pub fn two_worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}
