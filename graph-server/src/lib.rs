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
//! | `POST /threads`, `GET`/`PATCH`/`DELETE /threads/{id}` | threads: create, get, update metadata, delete |
//! | `POST /threads/search`, `POST /threads/{id}/copy` | search by metadata and status; copy |
//! | `GET /threads/{id}/state[/{checkpoint_id}]`, `POST /threads/{id}/state` | state; LangGraph's `update_state` |
//! | `POST /threads/{id}/history` | the states of its checkpoints, newest first |
//! | `POST /threads/{id}/runs/stream`, `/runs/wait` | a run on the thread from an input or a `command` |
//!
//! Threads keep their checkpoints and records in the store given to
//! [`Server::store`] (in memory without one). A second run on a busy thread is a 409 (the
//! `reject` strategy). Background runs, joining a run, cancelling, the other multitask
//! strategies and resumable streams are not served yet: their routes answer 404 and
//! their fields 501, naming what is missing.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod error;
mod registry;
mod request;
mod routes;
mod run;
mod served;
mod server;
mod wire;

pub use error::ServerError;
pub use registry::assistant_id;
pub use server::{DEFAULT_BODY_LIMIT, Server};
