//! The exporter's HTTP client: the workspace's reqwest, run on a runtime of its own.
//!
//! OpenTelemetry's batch processor calls the client from its own thread, blocking on the
//! future; reqwest needs a tokio runtime under it. Sending each request on a runtime the
//! exporter owns (made once, never dropped) works whatever runtime, if any, the program
//! runs, and a flush called from inside the program's runtime cannot starve it.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

/// The runtime the exports run on, made on first use.
static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// An OTLP/HTTP client sending with reqwest on the exporter's runtime.
#[derive(Debug, Clone)]
pub(super) struct ExportClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl ExportClient {
    /// A client whose requests give up after `timeout`.
    pub(super) fn new(timeout: Duration) -> std::io::Result<Self> {
        let runtime = match RUNTIME.get() {
            Some(runtime) => runtime,
            None => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("stategraph-otlp")
                    .enable_all()
                    .build()?;
                RUNTIME.get_or_init(|| runtime)
            }
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self {
            client,
            runtime: runtime.handle().clone(),
        })
    }

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let request = reqwest::Request::try_from(request.map(reqwest::Body::from))?;
        self.runtime
            .spawn(async move {
                let response = client.execute(request).await?;
                let mut answer = Response::builder().status(response.status());
                if let Some(headers) = answer.headers_mut() {
                    headers.extend(response.headers().clone());
                }
                let body = response.bytes().await?;
                Ok::<_, HttpError>(answer.body(body)?)
            })
            .await?
    }
}

impl HttpClient for ExportClient {
    fn send_bytes<'a, 'f>(
        &'a self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'f>>
    where
        'a: 'f,
        Self: 'f,
    {
        Box::pin(self.send(request))
    }
}
