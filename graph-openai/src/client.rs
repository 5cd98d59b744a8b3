//! The raw client and its builder: the configuration, checked once and turned into the
//! [`Endpoint`] that every request goes through.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::api_key::ApiKey;
use crate::chunk_stream::{ChunkStream, Chunks};
use crate::endpoint::Endpoint;
use crate::error::OpenAiError;
use crate::retry::{Budget, RetryPolicy};
use crate::timeouts::Timeouts;
use crate::transport::{Target, Transport};
use crate::wire::{ChatCompletionRequest, DeltaChunk};

/// OpenAI's own endpoint, used when no base URL is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The default limit on one server-sent event: 4 MiB, far above any real chunk, low
/// enough that a broken server cannot make us buffer without end.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 4 << 20;

/// A client for one OpenAI-compatible server: cheap to clone, shareable across tasks.
///
/// [`stream_chat`](Self::stream_chat) returns the server's typed chunks as they arrive:
/// what a node reads when it wants the raw deltas (the guide's second half).
///
/// ```no_run
/// # async fn run() -> Result<(), stategraph_openai::OpenAiError> {
/// use futures::TryStreamExt;
/// use stategraph_openai::OpenAiClient;
/// use stategraph_openai::wire::{ChatCompletionRequest, RequestMessage};
///
/// let client = OpenAiClient::from_env()?;
/// let request = ChatCompletionRequest::new("gpt-4o-mini", [RequestMessage::user("Hi")]);
/// let mut chunks = client.stream_chat(&request);
/// while let Some(chunk) = chunks.try_next().await? {
///     for choice in &chunk.choices {
///         print!("{}", choice.delta.content.as_deref().unwrap_or(""));
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OpenAiClient {
    inner: Arc<Endpoint>,
}

impl OpenAiClient {
    /// A builder with the defaults: OpenAI's endpoint, no key.
    pub fn builder() -> OpenAiClientBuilder {
        OpenAiClientBuilder::default()
    }

    /// A client for the server that `OPENAI_BASE_URL` and `OPENAI_API_KEY` name (either
    /// may be unset: OpenAI's endpoint, no key).
    ///
    /// # Errors
    /// When `OPENAI_BASE_URL` is not a URL, or the key cannot be an HTTP header.
    pub fn from_env() -> Result<Self, OpenAiError> {
        Self::builder().from_env().build()
    }

    /// The base URL requests go to (without credentials).
    pub fn base_url(&self) -> &str {
        &self.inner.shown_url
    }

    /// Starts a streaming chat completion. Nothing is sent until the stream is polled;
    /// everything that goes wrong arrives as the stream's last item.
    pub fn stream_chat(&self, request: &ChatCompletionRequest) -> ChunkStream {
        ChunkStream::new(Arc::clone(&self.inner), request_body(request))
    }

    /// As [`stream_chat`](Self::stream_chat), decoding only what `ChatOpenAI` reads.
    pub(crate) fn stream_deltas(&self, request: &ChatCompletionRequest) -> Chunks<DeltaChunk> {
        Chunks::new(Arc::clone(&self.inner), request_body(request))
    }
}

fn request_body(request: &ChatCompletionRequest) -> Result<Vec<u8>, OpenAiError> {
    serde_json::to_vec(request)
        .map_err(|error| OpenAiError::Config(format!("the request cannot be serialized: {error}")))
}

impl fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("OpenAiClient")
            .field("base_url", &inner.shown_url)
            .field(
                "api_key",
                &if inner.has_key { "<redacted>" } else { "none" },
            )
            .field("timeouts", &inner.timeouts)
            .field("retry", &inner.retry)
            .field("max_event_size", &inner.max_event_size)
            .finish_non_exhaustive()
    }
}

/// The base URL for errors and logs: no credentials, no query (either may hold a secret).
fn shown_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.as_str().trim_end_matches('/').to_owned()
}

const USER_AGENT: &str = concat!("stategraph-openai/", env!("CARGO_PKG_VERSION"));

/// `Authorization: Basic` for the credentials in `url`, as browsers and reqwest send them.
fn basic_auth(url: &reqwest::Url) -> Result<Option<HeaderValue>, OpenAiError> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return Ok(None);
    }
    let decode = |part: &str| percent_encoding::percent_decode_str(part).collect::<Vec<u8>>();
    let mut credentials = decode(url.username());
    credentials.push(b':');
    credentials.extend(decode(url.password().unwrap_or("")));
    let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
        .map_err(|_| OpenAiError::Config("the base URL's credentials are not valid".into()))?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// Whether the environment names a proxy for this scheme, as reqwest reads it: the direct
/// transport does not speak to proxies, so such requests go through reqwest.
fn proxy_in_env(tls: bool) -> bool {
    let names: &[&str] = if tls {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    names
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// Configures an [`OpenAiClient`].
#[derive(Default)]
pub struct OpenAiClientBuilder {
    base_url: Option<String>,
    api_key: Option<ApiKey>,
    headers: Vec<(String, String)>,
    timeouts: Timeouts,
    retry: RetryPolicy,
    max_event_size: Option<usize>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for OpenAiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl OpenAiClientBuilder {
    /// Fills the base URL and key from `OPENAI_BASE_URL` and `OPENAI_API_KEY` where the
    /// builder has none yet; empty variables count as unset.
    #[must_use]
    pub fn from_env(mut self) -> Self {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        if self.base_url.is_none() {
            self.base_url = var("OPENAI_BASE_URL");
        }
        if self.api_key.is_none() {
            self.api_key = var("OPENAI_API_KEY").map(ApiKey::new);
        }
        self
    }

    /// The server's base URL, e.g. `http://127.0.0.1:8080/v1`; requests go to
    /// `<base>/chat/completions`.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API key, sent as `Authorization: Bearer <key>`.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<ApiKey>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// An extra header on every request (`OpenAI-Organization`, a gateway's routing key,
    /// ...). Its value is marked sensitive, so it is not logged either.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// All timeouts at once.
    #[must_use]
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The time allowed until the response's status and headers.
    #[must_use]
    pub fn first_byte_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.first_byte = timeout;
        self
    }

    /// The time allowed between two reads of a streaming body.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// The retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How many times one request is retried at most (see [`RetryPolicy`] for which
    /// failures are).
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// The largest server-sent event accepted (default [`DEFAULT_MAX_EVENT_SIZE`]).
    #[must_use]
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = Some(bytes);
        self
    }

    /// Sends requests through this `reqwest` client (for proxies, custom TLS roots,
    /// HTTP/2, ...) instead of the built-in HTTP/1.1 transport. The connect timeout is
    /// then the client's own, and each body frame is handed from reqwest's connection
    /// task to the reader, which costs a cross-thread wake-up per event when they run on
    /// different threads.
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Builds the client. Requests go over the built-in HTTP/1.1 transport, unless a
    /// `reqwest::Client` was given ([`http_client`](Self::http_client)) or the environment
    /// names a proxy for the URL's scheme (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, or
    /// lower case): reqwest then sends them, through the proxy.
    ///
    /// # Errors
    /// When the base URL is not an `http(s)` URL, a header is invalid, or the TLS backend
    /// cannot start.
    pub fn build(self) -> Result<OpenAiClient, OpenAiError> {
        let base = self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
        // The URL may hold credentials or a keyed query: errors never quote it.
        let mut endpoint = reqwest::Url::parse(base.trim()).map_err(|error| {
            OpenAiError::Config(format!("the base URL is not a valid URL: {error}"))
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(OpenAiError::Config(format!(
                "the base URL's scheme is `{}`; it must be http or https",
                endpoint.scheme()
            )));
        }
        let shown_url = shown_url(&endpoint);
        // Appending path segments keeps a query (`?api-version=..`) where it belongs;
        // credentials in the URL are sent as Basic auth, unless a key is set.
        endpoint
            .path_segments_mut()
            .map_err(|()| OpenAiError::Config("the base URL cannot have a path".into()))?
            .pop_if_empty()
            .extend(["chat", "completions"]);

        let target = Target::new(&endpoint).map_err(OpenAiError::Config)?;

        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        if let Some(basic) = basic_auth(&endpoint)? {
            headers.insert(header::AUTHORIZATION, basic);
        }
        if let Some(key) = &self.api_key {
            headers.insert(header::AUTHORIZATION, key.bearer_header()?);
        }
        for (name, value) in &self.headers {
            let name = HeaderName::try_from(name.as_str())
                .map_err(|_| OpenAiError::Config(format!("{name:?} is not a header name")))?;
            let mut value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                OpenAiError::Config(format!("the value of header `{name}` is not valid"))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }

        let transport = match self.http {
            Some(http) => Transport::Reqwest(http),
            None if proxy_in_env(target.tls) => Transport::Reqwest(
                reqwest::Client::builder()
                    .connect_timeout(self.timeouts.connect)
                    .user_agent(USER_AGENT)
                    .build()
                    .map_err(|error| OpenAiError::Config(format!("HTTP client: {error}")))?,
            ),
            None => Transport::direct(&target).map_err(OpenAiError::Config)?,
        };
        Ok(OpenAiClient {
            inner: Arc::new(Endpoint {
                transport,
                target,
                shown_url,
                headers,
                has_key: self.api_key.is_some(),
                timeouts: self.timeouts,
                retry: self.retry,
                budget: self.retry.budget.map(Budget::new),
                max_event_size: self.max_event_size.unwrap_or(DEFAULT_MAX_EVENT_SIZE),
            }),
        })
    }
}
