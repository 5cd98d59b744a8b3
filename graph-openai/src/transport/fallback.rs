//! Sending through a `reqwest::Client`: for a client the user configured (proxies, custom
//! roots) and for proxies named in the environment, which the direct transport does not
//! speak. Every body frame then crosses from reqwest's connection task to the reader.

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::HeaderMap;

use super::{Body, HttpError, Response, SendError, Target};
use crate::timeouts::Timeouts;

pub(super) async fn send(
    client: &reqwest::Client,
    target: &Target,
    headers: &HeaderMap,
    body: Bytes,
    timeouts: &Timeouts,
) -> Result<Response, SendError> {
    let request = client
        .post(target.url.clone())
        .headers(headers.clone())
        .body(body);
    let mut response = match tokio::time::timeout(timeouts.first_byte, request.send()).await {
        Err(_) => return Err(SendError::FirstByteTimeout),
        Ok(Ok(response)) => response,
        Ok(Err(error)) if error.is_builder() => {
            return Err(SendError::Invalid(format!(
                "the request could not be built: {}",
                error.without_url()
            )));
        }
        // `is_connect` marks the failures of reqwest's connector (DNS, refused, connect
        // timeout, TLS handshake): the request never left. A user's client may also have
        // a total timeout, which can fire after sending.
        Ok(Err(error)) if error.is_connect() && error.is_timeout() => {
            return Err(SendError::ConnectTimeout);
        }
        Ok(Err(error)) if error.is_connect() => {
            return Err(SendError::Connect(HttpError::new(error.without_url())));
        }
        Ok(Err(error)) => return Err(SendError::AfterSent(HttpError::new(error.without_url()))),
    };
    Ok(Response {
        status: response.status(),
        headers: std::mem::take(response.headers_mut()),
        body: Body::Reqwest(response.bytes_stream().boxed()),
    })
}
