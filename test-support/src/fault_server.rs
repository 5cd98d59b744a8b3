//! A local HTTP server that misbehaves on request: each connection gets the next scripted
//! reply (the last one repeats), written in parts, then ended cleanly, with a reset, or not
//! at all. It counts the connections it accepts and the requests it reads, so a test can
//! tell how many times the client sent a request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::request::read_request;

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
    /// The status code of the status line.
    pub status: u16,
    /// The headers, in order; the server adds `Connection: close`.
    pub headers: Vec<(String, String)>,
    /// Written one by one, each flushed, with `gap` between them.
    pub parts: Vec<Vec<u8>>,
    /// The wait before each part.
    pub gap: Duration,
    /// How the body ends.
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

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the `Content-Type` header.
    pub fn content_type(mut self, value: &str) -> Self {
        self.headers.retain(|(name, _)| name != "Content-Type");
        self.headers.push(("Content-Type".into(), value.into()));
        self
    }

    /// Waits `gap` before each part.
    pub fn gap(mut self, gap: Duration) -> Self {
        self.gap = gap;
        self
    }

    /// Ends the body as `end` says.
    pub fn end(mut self, end: End) -> Self {
        self.end = end;
        self
    }
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
pub struct Seen {
    /// When the server had read it whole (on tokio's clock, which a test may pause).
    pub at: Instant,
    /// The request line and headers, as sent.
    pub head: String,
    /// The body as JSON (`null` when it is not JSON).
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
struct Log {
    /// Connections accepted, whether a request came on them or not.
    connections: usize,
    requests: Vec<Seen>,
    /// Set when a write failed because the client had gone away.
    client_went_away: bool,
}

/// The scripted server, on 127.0.0.1 and a free port; it serves until the runtime ends.
pub struct FaultServer {
    /// `http://127.0.0.1:PORT/v1`, for the client's builder.
    pub base_url: String,
    log: Arc<Mutex<Log>>,
}

impl FaultServer {
    /// Starts serving: connection `i` gets `replies[i]`, or the last reply once they run
    /// out.
    ///
    /// # Panics
    /// When `replies` is empty, or no port on 127.0.0.1 is free.
    pub async fn start(replies: Vec<Reply>) -> Self {
        assert!(
            !replies.is_empty(),
            "a fault server needs a reply to repeat"
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let base_url = format!(
            "http://{}/v1",
            listener.local_addr().expect("the listener's address")
        );
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

    /// Every request read in full, in order.
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

    /// Whether a write failed because the client had gone away.
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
