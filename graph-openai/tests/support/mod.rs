//! A local HTTP server for the tests that misbehaves on request: each connection gets the
//! next scripted reply (the last one repeats), written in parts, then ended cleanly, with a
//! reset, or not at all. It counts the connections it accepts and the requests it reads,
//! so a test can tell how many times the client sent a request.

#![allow(dead_code)] // each test binary uses part of it

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod request;
use request::read_request;

/// How a reply's body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Close the connection cleanly (the body is close-delimited).
    Close,
    /// Reset the connection (RST), as a crashed proxy does.
    Reset,
    /// Keep the connection open and send nothing more.
    Stall,
}

/// One scripted reply.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Written one by one, each flushed, with `gap` between them.
    pub parts: Vec<Vec<u8>>,
    pub gap: Duration,
    pub end: End,
    /// Read the request, then send nothing, not even the status line, and end the
    /// connection as `end` says (a server that hangs, or crashes while generating).
    pub silent: bool,
    /// Do not read the request: write the first part at once, then close (bytes that
    /// are not TLS, for a client expecting a TLS handshake).
    pub on_accept: bool,
}

impl Reply {
    /// A 200 `text/event-stream` reply with these body parts, ended cleanly.
    pub fn sse(parts: impl IntoIterator<Item = impl Into<Vec<u8>>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "text/event-stream".into())],
            parts: parts.into_iter().map(Into::into).collect(),
            gap: Duration::ZERO,
            end: End::Close,
            silent: false,
            on_accept: false,
        }
    }

    /// An error status with a JSON body.
    pub fn status(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            parts: vec![body.as_bytes().to_vec()],
            gap: Duration::ZERO,
            end: End::Close,
            silent: false,
            on_accept: false,
        }
    }

    /// A reply that never answers.
    pub fn silent() -> Self {
        Self {
            silent: true,
            end: End::Stall,
            ..Self::sse(Vec::<Vec<u8>>::new())
        }
    }

    /// Reads the whole request, then resets the connection before the status line: the
    /// server took the request and may have started on it.
    pub fn reset_before_status() -> Self {
        Self {
            end: End::Reset,
            ..Self::silent()
        }
    }

    /// Answers a connection at once with plain HTTP, so that a client speaking TLS fails
    /// its handshake: a failure to connect, though the server saw the connection.
    pub fn not_tls() -> Self {
        Self {
            on_accept: true,
            ..Self::status(400, "not TLS")
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn content_type(mut self, value: &str) -> Self {
        self.headers.retain(|(name, _)| name != "Content-Type");
        self.headers.push(("Content-Type".into(), value.into()));
        self
    }

    pub fn gap(mut self, gap: Duration) -> Self {
        self.gap = gap;
        self
    }

    pub fn end(mut self, end: End) -> Self {
        self.end = end;
        self
    }
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub head: String,
    pub body: serde_json::Value,
}

impl Seen {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

#[derive(Default)]
pub struct Log {
    /// Connections accepted, whether a request came on them or not.
    pub connections: usize,
    pub requests: Vec<Seen>,
    /// Set when a write failed because the client had gone away.
    pub client_went_away: bool,
}

pub struct FaultServer {
    pub base_url: String,
    pub log: Arc<Mutex<Log>>,
}

impl FaultServer {
    pub async fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Log::default()));
        let server_log = Arc::clone(&log);
        tokio::spawn(async move {
            let mut next = 0;
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let reply = replies[next.min(replies.len() - 1)].clone();
                next += 1;
                server_log.lock().unwrap().connections += 1;
                tokio::spawn(serve(socket, reply, Arc::clone(&server_log)));
            }
        });
        Self { base_url, log }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.log.lock().unwrap().requests.clone()
    }

    /// How many requests the server read in full.
    pub fn request_count(&self) -> usize {
        self.log.lock().unwrap().requests.len()
    }

    /// How many connections the server accepted.
    pub fn connection_count(&self) -> usize {
        self.log.lock().unwrap().connections
    }

    pub fn client_went_away(&self) -> bool {
        self.log.lock().unwrap().client_went_away
    }
}

async fn serve(mut socket: TcpStream, reply: Reply, log: Arc<Mutex<Log>>) {
    if reply.on_accept {
        for part in &reply.parts {
            let _ = socket.write_all(part).await;
        }
        let _ = socket.shutdown().await;
        return;
    }
    let Some((head, body)) = read_request(&mut socket).await else {
        return;
    };
    log.lock().unwrap().requests.push(Seen {
        at: Instant::now(),
        head,
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    });
    if reply.silent {
        end(socket, reply.end).await;
        return;
    }
    let mut head = format!(
        "HTTP/1.1 {} Scripted\r\nConnection: close\r\n",
        reply.status
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for part in &reply.parts {
        if !reply.gap.is_zero() {
            tokio::time::sleep(reply.gap).await;
        }
        let written = async {
            socket.write_all(part).await?;
            socket.flush().await
        };
        if written.await.is_err() {
            log.lock().unwrap().client_went_away = true;
            return;
        }
    }
    end(socket, reply.end).await;
}

async fn end(mut socket: TcpStream, end: End) {
    match end {
        End::Close => {
            let _ = socket.shutdown().await;
        }
        End::Reset => {
            // Let the client read what was sent: a reset discards unread data.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = socket.set_zero_linger();
            drop(socket);
        }
        End::Stall => {
            // Hold the connection until the client gives up.
            let mut buf = [0u8; 64];
            let _ = socket.read(&mut buf).await;
        }
    }
}

/// The first event of an answer: the role, and no content.
pub fn role_event() -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}],
        })
    )
}

/// One `data:` event with a content delta.
pub fn content_event(text: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
        })
    )
}

/// The event that ends a choice with `reason`.
pub fn finish_event(reason: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": reason}],
        })
    )
}

pub const DONE: &str = "data: [DONE]\n\n";

/// What a [`KeepAliveServer`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub connections: usize,
    pub requests: usize,
}

/// A server that keeps connections alive, as real ones do: it answers every request on a
/// connection with the same events, one HTTP chunk each, and counts connections and
/// requests. With `close_when_idle`, it closes each connection after its first answer
/// when [`close_idle`](Self::close_idle) tells it to, as a server whose keep-alive timeout
/// ran out does.
pub struct KeepAliveServer {
    pub base_url: String,
    counts: Arc<Mutex<Counts>>,
    close: Arc<tokio::sync::Notify>,
    closed: Arc<tokio::sync::Notify>,
}

impl KeepAliveServer {
    pub async fn start(events: Vec<String>, close_when_idle: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
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
                        let mut reply = String::from(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
                        );
                        for event in &events {
                            reply.push_str(&format!("{:x}\r\n{event}\r\n", event.len()));
                        }
                        reply.push_str("0\r\n\r\n");
                        if socket.write_all(reply.as_bytes()).await.is_err() {
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

    pub fn counts(&self) -> Counts {
        *self.counts.lock().unwrap()
    }

    /// Closes the idle connection (with `close_when_idle`) and waits until it is closed.
    pub async fn close_idle(&self) {
        self.close.notify_one();
        self.closed.notified().await;
    }
}
