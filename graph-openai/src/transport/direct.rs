//! HTTP/1.1 over hyper's low-level connection API, with the connection driven by whoever
//! reads the response.
//!
//! hyper splits a connection into a `SendRequest` handle and a `Connection` future that
//! does the I/O, and expects the future to be spawned. Spawned, it runs on whichever worker
//! tokio picks, and each body frame it reads wakes the reader on another thread: on a
//! multi-thread runtime read from `block_on`, a futex pair per event. Here the `Connection`
//! stays beside the response and is polled from the body stream's own `poll_next` (and,
//! before that, from the future waiting for the response head), so frames are read on the
//! reader's thread and handed over within one task.
//!
//! The cost of not spawning it: an idle pooled connection is polled by nobody, so a server
//! closing it is noticed when the connection is taken from the pool, not when it happens.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body as _, Incoming};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use reqwest::header::{self, HeaderMap};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use super::pool::{Pool, PoolKey, current_key};
use super::{Body, HttpError, Response, SendError, Target};
use crate::timeouts::Timeouts;

type Request = hyper::Request<Full<Bytes>>;

/// The direct transport of one client: its pool, and its TLS connector for `https`.
pub(crate) struct Direct {
    pool: Arc<Pool>,
    tls: Option<TlsConnector>,
}

/// One open HTTP/1.1 connection: the handle that sends requests, and the future that
/// reads and writes the socket.
pub(super) struct Conn {
    sender: SendRequest<Full<Bytes>>,
    /// `None` once the connection has finished (closed, or failed): it is then not reused.
    driver: Option<Connection<TokioIo<Stream>, Full<Bytes>>>,
}

impl Conn {
    /// Whether the connection can take a request now. Polls the connection once, which
    /// reads a close or an error the server sent while the connection sat idle.
    pub(super) fn is_reusable(&mut self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        if self.drive(&mut cx).is_ready() || self.sender.is_closed() {
            return false;
        }
        matches!(self.sender.poll_ready(&mut cx), Poll::Ready(Ok(())))
    }

    /// Does the connection's pending I/O; `Ready` once it has finished.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), hyper::Error>> {
        let Some(driver) = &mut self.driver else {
            return Poll::Ready(Ok(()));
        };
        let done = std::task::ready!(Pin::new(driver).poll(cx));
        self.driver = None;
        Poll::Ready(done)
    }
}

/// How one request on one connection failed.
enum Exchange {
    /// The connection refused the request before writing any of it: it may be sent on
    /// another connection.
    Unsent(Box<Request>, HttpError),
    /// The request was (or may have been) written, and the connection closed cleanly
    /// before any byte of an answer.
    ClosedUnanswered(HttpError),
    /// The request was (or may have been) written.
    Failed(HttpError),
}

impl Direct {
    pub(super) fn new(target: &Target) -> Result<Self, String> {
        Ok(Self {
            pool: Arc::default(),
            tls: if target.tls {
                Some(super::tls::connector()?)
            } else {
                None
            },
        })
    }

    pub(super) async fn send(
        &self,
        target: &Target,
        headers: &HeaderMap,
        body: Bytes,
        timeouts: &Timeouts,
    ) -> Result<Response, SendError> {
        let build = || {
            let mut request = hyper::Request::new(Full::new(body.clone()));
            *request.method_mut() = hyper::Method::POST;
            *request.uri_mut() = target.path_and_query.clone();
            let request_headers = request.headers_mut();
            request_headers.insert(header::HOST, target.authority.clone());
            request_headers.extend(headers.clone());
            request
        };
        let mut request = build();

        let key = current_key();
        loop {
            let (conn, pooled) = match self.pool.take(key) {
                Some(conn) => (conn, true),
                None => (self.connect(target, timeouts).await?, false),
            };
            let exchange = exchange(conn, request);
            match tokio::time::timeout(timeouts.first_byte, exchange).await {
                Err(_) => return Err(SendError::FirstByteTimeout),
                Ok(Ok((response, conn))) => {
                    let (head, incoming) = response.into_parts();
                    let body = DirectBody {
                        live: Some(Live { incoming, conn }),
                        pool: Arc::clone(&self.pool),
                        key,
                        expect_end: false,
                    };
                    return Ok(Response {
                        status: head.status,
                        headers: head.headers,
                        body: Body::Direct(body),
                    });
                }
                // A pooled connection that closed before it took the request: nothing was
                // sent, so the next connection (pooled or new) gets it.
                Ok(Err(Exchange::Unsent(unsent, _))) if pooled => request = *unsent,
                Ok(Err(Exchange::Unsent(_, error))) => return Err(SendError::Connect(error)),
                // An idle connection the server closed (keep-alive timeout, or a server
                // that closes after each answer) while the close was still on its way: it
                // took the request and ended without a byte of answer, so the server never
                // ran it. As Go's and hyper-util's clients do for a reused connection, the
                // request goes to a new connection, once: only pooled connections get here.
                Ok(Err(Exchange::ClosedUnanswered(_))) if pooled => request = build(),
                Ok(Err(Exchange::ClosedUnanswered(error) | Exchange::Failed(error))) => {
                    return Err(SendError::AfterSent(error));
                }
            }
        }
    }

    /// Opens a new connection (TCP, then TLS for `https`) within the connect timeout.
    async fn connect(&self, target: &Target, timeouts: &Timeouts) -> Result<Conn, SendError> {
        let open = async {
            let failed = |error: io::Error| SendError::Connect(HttpError::new(error));
            let tcp = TcpStream::connect((target.host.as_str(), target.port))
                .await
                .map_err(failed)?;
            // Requests are written whole; Nagle would only hold back their last segment.
            tcp.set_nodelay(true).map_err(failed)?;
            let stream = match &self.tls {
                None => Stream::Plain(tcp),
                Some(tls) => {
                    let name = ServerName::try_from(target.host.clone()).map_err(|_| {
                        SendError::Invalid(format!(
                            "`{}` is not a host name TLS can verify",
                            target.host
                        ))
                    })?;
                    Stream::Tls(Box::new(tls.connect(name, tcp).await.map_err(failed)?))
                }
            };
            let (sender, driver) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|error| SendError::Connect(HttpError::new(error)))?;
            Ok(Conn {
                sender,
                driver: Some(driver),
            })
        };
        tokio::time::timeout(timeouts.connect, open)
            .await
            .map_err(|_| SendError::ConnectTimeout)?
    }
}

/// Sends `request` on `conn` and waits for the response head, driving the connection
/// meanwhile. The connection comes back with the response, to be driven by the body.
async fn exchange(
    mut conn: Conn,
    request: Request,
) -> Result<(hyper::Response<Incoming>, Conn), Exchange> {
    let mut response = pin!(conn.sender.try_send_request(request));
    let head = poll_fn(|cx| {
        if let Poll::Ready(head) = response.as_mut().poll(cx) {
            return Poll::Ready(head.map_err(Exchange::from));
        }
        if conn.driver.is_none() {
            // hyper answers every request before its connection finishes; this is the
            // guard against a hang should it ever not.
            return Poll::Ready(Err(Exchange::Failed(closed_early())));
        }
        let _ = conn.drive(cx);
        // Driving may have produced the head, or finished the connection with an error
        // that hyper hands to the request.
        response.as_mut().poll(cx).map_err(Exchange::from)
    })
    .await?;
    Ok((head, conn))
}

impl From<hyper::client::conn::TrySendError<Request>> for Exchange {
    fn from(mut error: hyper::client::conn::TrySendError<Request>) -> Self {
        match error.take_message() {
            Some(request) => Self::Unsent(Box::new(request), HttpError::new(error.into_error())),
            None => {
                let error = error.into_error();
                if error.is_incomplete_message() {
                    Self::ClosedUnanswered(HttpError::new(error))
                } else {
                    Self::Failed(HttpError::new(error))
                }
            }
        }
    }
}

fn closed_early() -> HttpError {
    HttpError::new(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the connection closed before the response ended",
    ))
}

/// The body of a response on a direct connection, which it drives while it reads.
pub(crate) struct DirectBody {
    /// `None` once the body has ended or failed. A connection whose response was not read
    /// to its end is never reused: the rest of that response would come first on it.
    live: Option<Live>,
    pool: Arc<Pool>,
    key: PoolKey,
    /// The reader has all it wanted (`[DONE]`) and only the body's end should follow:
    /// dropped before it, the body reads that end so the connection can be pooled.
    expect_end: bool,
}

/// A body being read and the connection it arrives on.
struct Live {
    incoming: Incoming,
    conn: Conn,
}

/// How much of a finished answer's tail is read to keep its connection.
const TAIL_LIMIT: usize = 64 << 10;
const TAIL_TIME: Duration = Duration::from_secs(1);

impl DirectBody {
    pub(super) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, HttpError>>> {
        let Some(live) = &mut self.live else {
            return Poll::Ready(None);
        };
        let item = std::task::ready!(live.poll_data(cx));
        match &item {
            Some(Ok(_)) => {}
            Some(Err(_)) => self.live = None,
            None => {
                if let Some(live) = self.live.take() {
                    live.release(&self.pool, self.key);
                }
            }
        }
        Poll::Ready(item)
    }

    /// Marks the answer complete: whatever the body still holds is its end.
    pub(super) fn expect_end(&mut self) {
        self.expect_end = true;
    }
}

impl Drop for DirectBody {
    fn drop(&mut self) {
        let Some(mut live) = self.live.take() else {
            return;
        };
        if !self.expect_end || live.conn.driver.is_none() {
            return;
        }
        // Usually the end has arrived with `[DONE]`: read it now, without a waker.
        let mut cx = Context::from_waker(Waker::noop());
        let mut tail = 0;
        loop {
            match live.poll_data(&mut cx) {
                Poll::Ready(Some(Ok(data))) => {
                    tail += data.len();
                    if tail > TAIL_LIMIT {
                        return;
                    }
                }
                Poll::Ready(Some(Err(_))) => return,
                Poll::Ready(None) => return live.release(&self.pool, self.key),
                Poll::Pending => break,
            }
        }
        // Otherwise wait for it briefly, off the reader's path, on the runtime whose I/O
        // driver the socket belongs to (only that one can wake it).
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if Some(runtime.id()) != self.key {
            return;
        }
        let (pool, key) = (Arc::clone(&self.pool), self.key);
        runtime.spawn(async move {
            let end = poll_fn(|cx| {
                loop {
                    match std::task::ready!(live.poll_data(cx)) {
                        Some(Ok(data)) => {
                            tail += data.len();
                            if tail > TAIL_LIMIT {
                                return Poll::Ready(false);
                            }
                        }
                        Some(Err(_)) => return Poll::Ready(false),
                        None => return Poll::Ready(true),
                    }
                }
            });
            if let Ok(true) = tokio::time::timeout(TAIL_TIME, end).await {
                live.release(&pool, key);
            }
        });
    }
}

impl Live {
    /// The next data frame, driving the connection while the frame channel is empty.
    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, HttpError>>> {
        let mut driven = false;
        loop {
            match Pin::new(&mut self.incoming).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => return Poll::Ready(Some(Ok(data))),
                    // Trailers: nothing an event stream reads.
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(error))) => {
                    return Poll::Ready(Some(Err(HttpError::new(error))));
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
            if self.conn.driver.is_none() {
                // hyper ends or fails a body before its connection finishes; a body still
                // waiting after that would never be woken.
                return Poll::Ready(Some(Err(closed_early())));
            }
            if driven {
                return Poll::Pending;
            }
            // The frame channel is empty: read the socket, then look again once. Both
            // register this task's waker, so whichever has news next wakes the reader.
            driven = true;
            let _ = self.conn.drive(cx);
        }
    }

    /// Pools the connection of a body read to its end, unless the connection finished
    /// with it (`Connection: close`, a close-delimited body).
    fn release(self, pool: &Pool, key: PoolKey) {
        if self.conn.driver.is_some() {
            pool.put(key, self.conn);
        }
    }
}

/// A connection's socket: plain TCP, or TLS over it.
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(tcp) => tcp.is_write_vectored(),
            Self::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Self::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}
