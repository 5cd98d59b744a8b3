//! What stategraph's tests, examples and benchmarks share (not published).
//!
//! | module | what it is |
//! |---|---|
//! | [`fault_server`] | a local HTTP server that answers each connection with a scripted reply: cut, reset, stalled, slow, or an error status |
//! | [`keep_alive`] | servers that keep connections alive and count them, one of which hangs up on chosen requests |
//! | [`events`] | the server-sent events of an OpenAI-compatible answer |
//! | [`examples`] | an example's binary, built when missing or stale, to run as a process |
//! | [`log`] | the examples' log on stderr, chosen by `RUST_LOG` |
//! | [`request`] | reading one HTTP/1.1 request off a raw socket |
//! | [`span_recorder`] | a `tracing` layer keeping every span, to assert a run's span tree |
//! | `guide` | the graph of LangGraph's streaming guide, which the examples run (feature `guide`) |
//!
//! The servers use raw sockets rather than a server crate, to cut, stall or flood a reply
//! as no well-behaved server would. They bind 127.0.0.1 on a free port and serve until
//! the test's runtime ends.
#![warn(missing_docs)]

pub mod events;
pub mod examples;
pub mod fault_server;
#[cfg(feature = "guide")]
pub mod guide;
pub mod keep_alive;
pub mod log;
pub mod request;
pub mod span_recorder;
#[cfg(feature = "guide")]
pub mod threads;
