//! How long each phase of a request may take: what the client is configured with, and
//! what the transport and the chunk reader enforce.

use std::time::Duration;

/// How long each phase of a request may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP (and TLS) connection. Default 10 s.
    pub connect: Duration,
    /// From sending the request to the response's status and headers, which a server
    /// sends once it starts generating. Default 120 s, for long prompts on slow servers.
    /// A request that hits it is not retried: the server may be generating already.
    pub first_byte: Duration,
    /// Between two reads of a streaming body. Default 60 s.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(120),
            idle: Duration::from_secs(60),
        }
    }
}
