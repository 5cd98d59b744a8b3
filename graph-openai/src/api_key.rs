//! The API key, kept out of `Debug`, `Display`, errors and logs.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// An API key. Its `Debug` shows `ApiKey(<redacted>)`; the only way to read it is to send
/// it, as the `Authorization` header (which is itself marked sensitive).
///
/// ```
/// let key = stategraph_openai::ApiKey::new("sk-secret");
/// assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
/// ```
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(SecretString::from(key.into()))
    }

    pub(crate) fn bearer_header(
        &self,
    ) -> Result<reqwest::header::HeaderValue, crate::error::OpenAiError> {
        let mut value =
            reqwest::header::HeaderValue::try_from(format!("Bearer {}", self.0.expose_secret()))
                .map_err(|_| {
                    crate::error::OpenAiError::Config(
                        "the API key contains characters not allowed in an HTTP header".into(),
                    )
                })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        Self::new(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        Self::new(key)
    }
}
