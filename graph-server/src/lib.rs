//! Serves stategraph graphs over LangGraph's Agent Server protocol, so that LangGraph's own
//! clients (`langgraph-sdk` for Python, `@langchain/langgraph-sdk` for JS) talk to them
//! unchanged.
//!
//! Register each graph under a graph id in your own binary and serve:
//!
//! ```no_run
//! # async fn demo<G>(graph: G) -> Result<(), stategraph_server::ServerError>
//! # where
//! #     G: stategraph_core::__private::RunNode,
//! #     G::State: serde::Serialize + serde::de::DeserializeOwned + Default + stategraph_core::checkpoint::Durable,
//! #     <G::State as stategraph_core::State>::Update: serde::Serialize,
//! #     G::Custom: serde::Serialize,
//! # {
//! use stategraph_server::Server;
//!
//! Server::new().graph("agent", graph).serve("127.0.0.1:8123").await
//! # }
//! ```
//!
//! Each graph becomes an assistant whose id derives from the graph id as LangGraph derives
//! it ([`assistant_id`]); either id names it in a request. What is served:
//!
//! | endpoint | what it does |
//! |---|---|
//! | `GET /ok`, `GET /info` | health and server info |
//! | `POST /assistants/search`, `GET /assistants/{id}` | the assistants, one per graph |
//! | `GET /assistants/{id}/graph` | the graph's nodes and edges in LangGraph's JSON |
//! | `GET /assistants/{id}/schemas` | the state's JSON schema, inferred from its default |
//! | `POST /runs/stream` | a stateless run, streamed as server-sent events |
//! | `POST /runs/wait` | a stateless run's final state |
//! | `GET /runs/{run_id}/stream` | a resumable stateless run's events after `Last-Event-ID`, then live |
//! | `POST /threads`, `GET`/`PATCH`/`DELETE /threads/{id}` | threads: create, get, update metadata, delete |
//! | `POST /threads/search`, `POST /threads/{id}/copy` | search by metadata and status; copy |
//! | `GET /threads/{id}/state[/{checkpoint_id}]`, `POST /threads/{id}/state` | state; LangGraph's `update_state` |
//! | `POST /threads/{id}/history` | the states of its checkpoints, newest first |
//! | `POST /threads/{id}/runs/stream`, `/runs/wait` | a run on the thread from an input or a `command` |
//! | `POST /threads/{id}/runs`, `GET /threads/{id}/runs` | a run in the background; the thread's runs |
//! | `GET`/`DELETE /threads/{id}/runs/{run_id}` | a run's record |
//! | `POST /threads/{id}/runs/{run_id}/cancel` | stops a run (`action=interrupt` or `rollback`, `wait`) |
//! | `GET /threads/{id}/runs/{run_id}/join` | waits for a run; the thread's state |
//! | `GET /threads/{id}/runs/{run_id}/stream` | a run's events so far after `Last-Event-ID`, then live |
//!
//! Threads keep their checkpoints, records and runs' records in the store given to
//! [`Server::store`] (in memory without one). Every run on a thread is stored: it can be
//! listed, joined and cancelled, whoever started it, and it goes on when its client
//! leaves (unless `on_disconnect=cancel`). Its events are kept in this process's memory
//! (at most 8 MiB a run, the oldest dropped first) until 2 minutes after it ended. A
//! second run on a busy thread follows its `multitask_strategy`: `enqueue` (the default,
//! as LangGraph's server's), `reject` (a 409), `interrupt` or `rollback`.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod auth;
mod error;
mod layers;
mod metrics;
mod quota;
mod registry;
mod request;
mod request_span;
mod routes;
mod run;
mod runs;
mod served;
mod server;
mod wire;

pub use error::ServerError;
pub use metrics::{MetricsLayer, ServerMetrics};
pub use registry::assistant_id;
pub use server::{DEFAULT_BODY_LIMIT, Server};
