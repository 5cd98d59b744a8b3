//! Servers that keep connections alive, as real ones do, and count connections and
//! requests: for the client's connection reuse.

use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::request::read_request;

/// What a [`KeepAliveServer`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Connections accepted.
    pub connections: usize,
    /// Requests read in full.
    pub requests: usize,
}

/// A server that keeps connections alive, as real ones do: it answers every request on a
/// connection with the same events, one HTTP chunk each, and counts connections and
/// requests. With `close_when_idle`, it closes each connection after its first answer
/// when [`close_idle`](Self::close_idle) tells it to, as a server whose keep-alive timeout
/// ran out does.
pub struct KeepAliveServer {
    /// `http://127.0.0.1:PORT/v1`, for the client's builder.
    pub base_url: String,
    counts: Arc<Mutex<Counts>>,
    close: Arc<tokio::sync::Notify>,
    closed: Arc<tokio::sync::Notify>,
}

impl KeepAliveServer {
    /// Starts serving on 127.0.0.1 and a free port, until the runtime ends.
    ///
    /// # Panics
    /// When no port on 127.0.0.1 is free.
    pub async fn start(events: Vec<String>, close_when_idle: bool) -> Self {
        let (listener, base_url) = listen().await;
        let counts = Arc::new(Mutex::new(Counts::default()));
        let close = Arc::new(tokio::sync::Notify::new());
        let closed = Arc::new(tokio::sync::Notify::new());
        let (server_counts, server_close, server_closed) =
            (Arc::clone(&counts), Arc::clone(&close), Arc::clone(&closed));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                server_counts.lock().unwrap().connections += 1;
                let (counts, close, closed, events) = (
                    Arc::clone(&server_counts),
                    Arc::clone(&server_close),
                    Arc::clone(&server_closed),
                    events.clone(),
                );
                tokio::spawn(async move {
                    while read_request(&mut socket).await.is_some() {
                        counts.lock().unwrap().requests += 1;
                        if socket
                            .write_all(chunked_answer(&events).as_bytes())
                            .await
                            .is_err()
                        {
                            return;
                        }
                        if close_when_idle {
                            close.notified().await;
                            drop(socket);
                            closed.notify_one();
                            return;
                        }
                    }
                });
            }
        });
        Self {
            base_url,
            counts,
            close,
            closed,
        }
    }

    /// What the server saw so far.
    pub fn counts(&self) -> Counts {
        *self.counts.lock().unwrap()
    }

    /// Closes the idle connection (with `close_when_idle`) and waits until it is closed.
    pub async fn close_idle(&self) {
        self.close.notify_one();
        self.closed.notified().await;
    }
}

/// Which request a [`HangUpServer`] is reading, for its choice of answering it or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    /// The connection it came on: 0 for the first the server accepted.
    pub connection: usize,
    /// Its place on that connection: 0 for the first request.
    pub on_connection: usize,
    /// Its place among every request the server read: 0 for the first.
    pub overall: usize,
}

/// A keep-alive server that hangs up on the requests it chooses not to answer: it reads
/// such a request whole, then closes the connection cleanly (a FIN, not a reset) without
/// sending a byte, as a server whose keep-alive timeout ran out as the request arrived
/// does. The client then sees its connection close before any answer (hyper's
/// `IncompleteMessage`). The requests it answers get the same events, one HTTP chunk each,
/// and leave the connection open.
pub struct HangUpServer {
    /// `http://127.0.0.1:PORT/v1`, for the client's builder.
    pub base_url: String,
    counts: Arc<Mutex<Counts>>,
}

impl HangUpServer {
    /// Starts serving on 127.0.0.1 and a free port, until the runtime ends: a request is
    /// answered when `answers` says so, and hung up on otherwise.
    ///
    /// # Panics
    /// When no port on 127.0.0.1 is free.
    pub async fn start(
        events: Vec<String>,
        answers: impl Fn(Arrival) -> bool + Send + Sync + 'static,
    ) -> Self {
        let (listener, base_url) = listen().await;
        let counts = Arc::new(Mutex::new(Counts::default()));
        let server_counts = Arc::clone(&counts);
        let answers = Arc::new(answers);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let connection = {
                    let mut counts = server_counts.lock().unwrap();
                    counts.connections += 1;
                    counts.connections - 1
                };
                let (counts, answers, events) = (
                    Arc::clone(&server_counts),
                    Arc::clone(&answers),
                    events.clone(),
                );
                tokio::spawn(async move {
                    let mut on_connection = 0;
                    while read_request(&mut socket).await.is_some() {
                        let overall = {
                            let mut counts = counts.lock().unwrap();
                            counts.requests += 1;
                            counts.requests - 1
                        };
                        let arrival = Arrival {
                            connection,
                            on_connection,
                            overall,
                        };
                        on_connection += 1;
                        if !answers(arrival) {
                            // The request was read whole, so closing sends a FIN: a
                            // reset would discard it unread and tell the client more.
                            let _ = socket.shutdown().await;
                            return;
                        }
                        if socket
                            .write_all(chunked_answer(&events).as_bytes())
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Self { base_url, counts }
    }

    /// What the server saw so far.
    pub fn counts(&self) -> Counts {
        *self.counts.lock().unwrap()
    }
}

/// A 200 `text/event-stream` answer with `events`, one HTTP chunk each, that leaves the
/// connection open.
fn chunked_answer(events: &[String]) -> String {
    let mut reply = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for event in events {
        reply.push_str(&format!("{:x}\r\n{event}\r\n", event.len()));
    }
    reply.push_str("0\r\n\r\n");
    reply
}

/// A listener on 127.0.0.1 and a free port, and the base URL that reaches it.
async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let address = listener.local_addr().expect("the listener's address");
    (listener, format!("http://{address}/v1"))
}
