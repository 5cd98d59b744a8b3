//! An OpenAI-compatible streaming chat client for [stategraph](https://docs.rs/stategraph):
//! OpenAI itself, and the servers that speak its API (vLLM, llama.cpp, Ollama, LM Studio,
//! gateways).
//!
//! | item | what it is |
//! |---|---|
//! | [`ChatOpenAI`] | a [`ChatModel`](stategraph_core::ChatModel) for `ctx.chat(&model)` in a node |
//! | [`OpenAiClient`] | the raw client: a typed stream of [`ChatCompletionChunk`](wire::ChatCompletionChunk)s |
//! | [`CompletionBuilder`] | assembles raw chunks (tool-call deltas included) into whole messages |
//! | [`SseDecoder`] | the sans-IO server-sent-events decoder underneath |
//! | [`OpenAiError`] | every way a call fails, typed |
//! | [`HttpError`] | what the connection layer reported, inside a connect or transport error |
//!
//! What it promises: HTTP/1.1 with keep-alive, the connection driven by the stream that
//! reads the answer (no thread hop per event, however the program runs the stream); TLS
//! through rustls (no system OpenSSL); connection failures and the statuses 408, 429, 500,
//! 502, 503 and 504 retried with backoff, jitter and `Retry-After`, within a per-client
//! [`RetryBudget`], and a request that reached the server never sent twice otherwise (the
//! model would run twice); connect, first-byte and idle timeouts; events split anywhere,
//! `\r\n`, comments and multi-line data decoded; compatible servers' quirks accepted (no
//! `index`, empty `finish_reason`, `content: null`, usage-only chunks); and a stream that
//! never ends quietly when the answer is incomplete. The API key never appears in `Debug`,
//! errors or logs.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod api_key;
mod assemble;
mod chat_openai;
mod chunk_stream;
mod client;
mod endpoint;
mod error;
mod retry;
mod sse;
mod timeouts;
mod transport;
pub mod wire;

pub use api_key::ApiKey;
pub use assemble::CompletionBuilder;
pub use chat_openai::{ChatOpenAI, DEFAULT_MODEL};
pub use chunk_stream::ChunkStream;
pub use client::{DEFAULT_BASE_URL, DEFAULT_MAX_EVENT_SIZE, OpenAiClient, OpenAiClientBuilder};
pub use error::{OpenAiError, TimeoutPhase};
pub use retry::{RetryBudget, RetryPolicy};
pub use sse::{Finished, SseDecoder, SseError, SseEvent};
pub use timeouts::Timeouts;
pub use transport::HttpError;
