//! In-process HTTP servers that answer every request with the same recorded SSE body,
//! written at memory speed: in one `Content-Length` write ([`serve`]), or as a real
//! OpenAI-compatible server does, one `Transfer-Encoding: chunked` chunk per event, each
//! with its own write call, on a kept-alive connection ([`serve_chunked`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use stategraph_test_support::request::read_request;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// Starts the server on 127.0.0.1 and returns its base URL (`http://127.0.0.1:PORT/v1`).
pub async fn serve(body: Arc<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let base_url = format!(
        "http://{}/v1",
        listener.local_addr().expect("local address")
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = Arc::clone(&body);
            tokio::spawn(async move {
                if read_request(&mut socket).await.is_none() {
                    return;
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                if socket.write_all(head.as_bytes()).await.is_ok() {
                    let _ = socket.write_all(&body).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    base_url
}

/// A chunked server running on its own thread (its own current-thread runtime), so that
/// readers on any runtime, or on none that is running, meet the same server.
#[derive(Debug)]
pub struct ChunkedServer {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    connections: Arc<AtomicUsize>,
}

impl ChunkedServer {
    /// How many connections the server has accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

/// Starts a server that answers every request on a connection (keep-alive) with `events`,
/// each as its own HTTP chunk written by its own write call, with `TCP_NODELAY` as real
/// servers set it, so that the reader sees about one frame per event.
pub fn serve_chunked(events: Vec<Vec<u8>>) -> ChunkedServer {
    // Framed once: the server must cost as little as possible per event.
    let frames: Arc<Vec<Vec<u8>>> = Arc::new(
        events
            .iter()
            .map(|event| {
                let mut frame = format!("{:x}\r\n", event.len()).into_bytes();
                frame.extend_from_slice(event);
                frame.extend_from_slice(b"\r\n");
                frame
            })
            .collect(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    listener.set_nonblocking(true).expect("non-blocking");
    let base_url = format!(
        "http://{}/v1",
        listener.local_addr().expect("local address")
    );
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("a tokio listener");
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::Relaxed);
                let _ = socket.set_nodelay(true);
                let frames = Arc::clone(&frames);
                tokio::spawn(async move {
                    while read_request(&mut socket).await.is_some() {
                        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
                        if socket.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        for frame in frames.iter() {
                            if socket.write_all(frame).await.is_err() {
                                return;
                            }
                        }
                        if socket.write_all(b"0\r\n\r\n").await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    ChunkedServer {
        base_url,
        connections,
    }
}
