//! What each client connection costs the server: the routes are shared by every
//! connection, not copied for each.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use stategraph_server::Server;
use stategraph_test_support::guide::{joke_poem, scripted_models};

/// Counts its clones: a handler holding it is copied whenever its route is.
struct Copies(Arc<AtomicUsize>);

impl Clone for Copies {
    fn clone(&self) -> Self {
        self.0.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(&self.0))
    }
}

#[tokio::test]
async fn a_new_connection_does_not_copy_the_routes() {
    let copies = Arc::new(AtomicUsize::new(0));
    let counted = Copies(Arc::clone(&copies));
    let page = Router::new().route(
        "/page",
        get(move || {
            let _held = &counted;
            async { "a page" }
        }),
    );
    let server = Server::new().graph("agent", joke_poem::Graph::new(scripted_models()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(server.serve_on_with(listener, page));
    // The first request: the server has built its routes and serves.
    let ok = format!("http://{address}/ok");
    assert_eq!(reqwest::get(&ok).await.unwrap().status(), 200);
    let before = copies.load(Ordering::SeqCst);
    for _ in 0..5 {
        // A client of its own for each: a new connection each time.
        let response = reqwest::Client::new().get(&ok).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        copies.load(Ordering::SeqCst) - before,
        0,
        "each connection copied the routes"
    );
}
