//! Registering graphs and serving them.

use std::sync::Arc;

use axum::Router;
use axum::serve::ListenerExt as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use stategraph_core::State;
use stategraph_core::checkpoint::{
    Checkpointer, Durable, RunQuery, RunStatus, ThreadChange, ThreadQuery, ThreadStatus,
};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};

use crate::auth::Authenticate;
use crate::error::ServerError;
use crate::layers::Layers;
use crate::metrics::{Metered, ServerMetrics, count_open_streams};
use crate::quota::RunQuota;
use crate::registry::{Assistant, Registry, assistant_id};
use crate::request_span::request_spans;
use crate::routes::{self, AppState};
use crate::runs::Runs;
use crate::runs::event_log::{MemoryEventLog, RUN_LOG_BYTES};
use crate::runs::live::LiveRuns;
use crate::runs::stateless::KeptRuns;
use crate::served::{Served, ServedGraph};

/// The largest request body served by default: 10 MiB. Larger bodies are answered 413.
pub const DEFAULT_BODY_LIMIT: usize = 10 * 1024 * 1024;

/// An Agent Server for the graphs registered with [`graph`](Self::graph).
///
/// ```no_run
/// # async fn demo<G>(graph: G) -> Result<(), stategraph_server::ServerError>
/// # where
/// #     G: stategraph_core::__private::RunNode,
/// #     G::State: serde::Serialize + serde::de::DeserializeOwned + Default + stategraph_core::checkpoint::Durable,
/// #     <G::State as stategraph_core::State>::Update: serde::Serialize,
/// #     G::Custom: serde::Serialize,
/// # {
/// // Serve on a port:
/// stategraph_server::Server::new().graph("agent", graph).serve("127.0.0.1:8123").await
/// # }
/// ```
///
/// Or take the [`axum::Router`] with [`router`](Self::router) to serve it yourself, nest
/// it in a larger app, or add layers of your own.
///
/// On a network, say who may call it ([`authenticate`](Self::authenticate)), which pages
/// may call it from a browser ([`cors_origins`](Self::cors_origins)), and how many runs
/// each caller may have in flight ([`max_runs_per_identity`](Self::max_runs_per_identity)).
pub struct Server {
    graphs: Vec<(String, Arc<dyn ServedGraph>)>,
    body_limit: usize,
    store: Option<Arc<dyn Checkpointer>>,
    auth: Option<Arc<dyn Authenticate>>,
    cors_origins: Vec<String>,
    max_runs_per_identity: Option<usize>,
    metrics: ServerMetrics,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.graphs.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Server")
            .field("graphs", &ids)
            .field("body_limit", &self.body_limit)
            .field("store", &self.store.as_ref().map(|_| ".."))
            .field("authenticates", &self.auth.is_some())
            .field("cors_origins", &self.cors_origins)
            .field("max_runs_per_identity", &self.max_runs_per_identity)
            .finish()
    }
}

impl Server {
    /// A server with no graphs yet.
    pub fn new() -> Self {
        Self {
            graphs: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            store: None,
            auth: None,
            cors_origins: Vec::new(),
            max_runs_per_identity: None,
            metrics: ServerMetrics::new(),
        }
    }

    /// Serves `graph` under `graph_id`, as the assistant [`assistant_id(graph_id)`](assistant_id).
    ///
    /// A run's `input` is read as the state: the fields it gives over the state's
    /// `Default`, so `{"topic": "cats"}` starts a `Topic` with its other fields empty. The
    /// state and its update must serialize, for values, updates and debug mode, and the
    /// state must be [`Durable`] for runs on threads (`#[derive(State)]` makes it so when its
    /// fields serialize).
    #[must_use]
    pub fn graph<G>(mut self, graph_id: impl Into<String>, graph: G) -> Self
    where
        G: stategraph_core::__private::RunNode,
        G::State: Serialize + DeserializeOwned + Default + Durable,
        <G::State as State>::Update: Serialize,
        G::Custom: Serialize,
    {
        self.graphs
            .push((graph_id.into(), Arc::new(Served::new(graph))));
        self
    }

    /// Where threads keep their checkpoints and records: a store from
    /// `stategraph-checkpoint` (SQLite, Postgres), or any [`Checkpointer`]. Without one,
    /// threads live in this process's memory and end with it.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn Checkpointer>) -> Self {
        self.store = Some(store);
        self
    }

    /// The largest request body accepted, in bytes (default [`DEFAULT_BODY_LIMIT`]).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Asks `hook` who sends each request (all but `GET /ok`), as LangGraph's custom auth
    /// does: a refused request is answered 401 (or 403) and reaches no route. Threads, and
    /// the runs, state, history and streams under them, belong to the identity that
    /// created them (their `owner` metadata): any other identity is answered 404, and a
    /// search finds only its own threads. Assistants are everyone's. Without a hook every
    /// caller sees every thread.
    ///
    /// ```
    /// use stategraph_server::Server;
    /// use stategraph_server::auth::ApiKeys;
    ///
    /// let server = Server::new().authenticate(ApiKeys::new().key("alice", "sk-alice"));
    /// ```
    #[must_use]
    pub fn authenticate(mut self, hook: impl Authenticate) -> Self {
        self.auth = Some(Arc::new(hook));
        self
    }

    /// Lets pages served from these origins (`https://app.example.com`,
    /// `http://localhost:3000`) call the server from a browser; pages from other origins
    /// get no CORS headers, so their browser keeps the answers from them. None by default.
    /// An origin that is not one is a [`ServerError::CorsOrigin`] from
    /// [`router`](Self::router).
    #[must_use]
    pub fn cors_origins<I>(mut self, origins: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.cors_origins
            .extend(origins.into_iter().map(Into::into));
        self
    }

    /// At most `max` runs in flight per identity (queued runs included; the
    /// unauthenticated share one count): one more is answered 429 with `Retry-After`.
    /// No cap by default.
    #[must_use]
    pub fn max_runs_per_identity(mut self, max: usize) -> Self {
        self.max_runs_per_identity = Some(max);
        self
    }

    /// The server's metrics, which `GET /metrics` shows. Add its
    /// [`layer`](ServerMetrics::layer) to the program's `tracing` subscriber for the model
    /// calls' and checkpoint writes' histograms.
    pub fn metrics(&self) -> ServerMetrics {
        self.metrics.clone()
    }

    /// The routes, to serve with `axum::serve` or to nest in a larger app.
    ///
    /// Served this way, do as [`serve_on`](Self::serve_on) does: set `TCP_NODELAY` on the
    /// accepted sockets (axum's `ListenerExt::tap_io`), else with Nagle's algorithm a small
    /// event can wait up to 40 ms for the client's acknowledgement of the one before; and
    /// serve `router.into_make_service()`, else axum copies every route for each
    /// connection.
    ///
    /// # Errors
    /// [`ServerError::DuplicateGraph`] when two graphs share an id;
    /// [`ServerError::EmptyGraphId`] for an empty one; [`ServerError::CorsOrigin`] for
    /// an origin that is not one.
    pub fn router(self) -> Result<Router, ServerError> {
        let created_at = rfc3339_now();
        let mut assistants: Vec<Assistant> = Vec::with_capacity(self.graphs.len());
        for (graph_id, graph) in self.graphs {
            if graph_id.is_empty() {
                return Err(ServerError::EmptyGraphId);
            }
            if assistants.iter().any(|known| known.graph_id == graph_id) {
                return Err(ServerError::DuplicateGraph { graph_id });
            }
            let graph = Arc::new(Metered::new(graph, Arc::clone(self.metrics.inner())));
            assistants.push(Assistant {
                assistant_id: assistant_id(&graph_id),
                graph_id,
                graph,
                created_at: created_at.clone(),
            });
        }
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(stategraph_checkpoint::MemoryCheckpointer::new()));
        let runs = Arc::new(Runs {
            store: Arc::clone(&store),
            log: Arc::new(MemoryEventLog::new(RUN_LOG_BYTES)),
            live: LiveRuns::default(),
            stateless: KeptRuns::default(),
        });
        let state = Arc::new(AppState {
            registry: Registry::new(assistants),
            body_limit: self.body_limit,
            store,
            runs,
            quota: RunQuota::new(self.max_runs_per_identity),
        });
        let layers = Layers {
            body_limit: self.body_limit,
            cors_origins: self.cors_origins,
            auth: self.auth,
        };
        let open_streams = self.metrics.inner().open_streams.clone();
        let router = routes::router(state).merge(crate::metrics::routes(self.metrics));
        Ok(layers
            .wrap(router)?
            .layer(axum::middleware::map_response(move |response| {
                let counted = count_open_streams(&open_streams, response);
                async move { counted }
            }))
            .layer(request_spans()))
    }

    /// Listens on `address` and serves until the process ends.
    ///
    /// # Errors
    /// When the address cannot be bound, serving fails, or [`router`](Self::router) does.
    pub async fn serve(
        self,
        address: impl ToSocketAddrs + std::fmt::Display,
    ) -> Result<(), ServerError> {
        let listener = TcpListener::bind(&address)
            .await
            .map_err(|source| ServerError::Bind {
                address: address.to_string(),
                source,
            })?;
        self.serve_on(listener).await
    }

    /// Serves on a listener already bound (port 0 for a free port, in tests).
    ///
    /// Before serving, threads whose record says `busy` are set `idle` and their runs
    /// still `pending` or `running` set `error`: a server that stopped mid-run left them so,
    /// and no run of this new server holds them yet.
    ///
    /// # Errors
    /// When serving fails, or [`router`](Self::router) does, or the store cannot be read.
    pub async fn serve_on(self, listener: TcpListener) -> Result<(), ServerError> {
        self.serve_on_with(listener, Router::new()).await
    }

    /// Serves as [`serve_on`](Self::serve_on) does, with `routes` merged beside the
    /// protocol's (a page at `/`, say). The protocol's layers do not wrap them: they answer
    /// with their own headers and limits.
    ///
    /// # Errors
    /// As [`serve_on`](Self::serve_on).
    ///
    /// # Panics
    /// When `routes` has a fallback or a path the protocol serves, as [`Router::merge`].
    pub async fn serve_on_with(
        self,
        listener: TcpListener,
        routes: Router,
    ) -> Result<(), ServerError> {
        if let Some(store) = &self.store {
            reset_stale_runs(&**store).await?;
        }
        let router = self.router()?.merge(routes);
        // A make service hands each connection the router by reference count; the router
        // itself as the make service would be copied whole (every route) per connection.
        axum::serve(without_delay(listener), router.into_make_service())
            .await
            .map_err(ServerError::Serve)
    }
}

/// `listener`, its accepted sockets sending each write at once (`TCP_NODELAY`). With
/// Nagle's algorithm on, an event written while the previous one is not yet acknowledged
/// waits for the client's delayed ACK, up to 40 ms on Linux: the first token would wait
/// behind the `metadata` event.
fn without_delay(
    listener: TcpListener,
) -> impl axum::serve::Listener<Io = TcpStream, Addr = std::net::SocketAddr> {
    listener.tap_io(|socket: &mut TcpStream| {
        if let Err(error) = socket.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY on an accepted socket");
        }
    })
}

/// Sets busy threads idle and their unfinished runs `error`: what a server that stopped
/// mid-run left behind.
async fn reset_stale_runs(store: &dyn Checkpointer) -> Result<(), ServerError> {
    let busy = ThreadQuery {
        status: Some(ThreadStatus::Busy),
        limit: usize::MAX,
        ..ThreadQuery::default()
    };
    for thread in store
        .search_threads(busy)
        .await
        .map_err(ServerError::Store)?
    {
        for status in [RunStatus::Pending, RunStatus::Running] {
            let query = RunQuery {
                status: Some(status),
                limit: usize::MAX,
                offset: 0,
            };
            let runs = store
                .list_runs(&thread.thread_id, query)
                .await
                .map_err(ServerError::Store)?;
            for mut run in runs {
                run.status = RunStatus::Error;
                run.updated_at = std::time::SystemTime::now();
                store.put_run(run).await.map_err(ServerError::Store)?;
            }
        }
        let idle = ThreadChange {
            status: Some(ThreadStatus::Idle),
            ..ThreadChange::default()
        };
        store
            .update_thread(&thread.thread_id, idle)
            .await
            .map_err(ServerError::Store)?;
        tracing::warn!(
            thread = thread.thread_id,
            "a thread left busy by a stopped server is idle again"
        );
    }
    Ok(())
}

/// Now as RFC 3339, as LangGraph writes `created_at`.
fn rfc3339_now() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener as _;

    use super::*;

    #[tokio::test]
    async fn accepted_sockets_send_each_write_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut listener = without_delay(listener);
        let _client = TcpStream::connect(address).await.unwrap();
        let (accepted, _) = listener.accept().await;
        assert!(
            accepted.nodelay().unwrap(),
            "Nagle's algorithm holds small events back"
        );
    }
}
