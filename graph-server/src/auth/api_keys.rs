//! The built-in hook: a fixed set of secrets, each naming an identity.

use std::fmt;

use axum::http::HeaderMap;
use axum::http::request::Parts;
use futures::future::BoxFuture;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::hook::{AuthRejection, Authenticate, Identity};

/// API keys (sent in `x-api-key`, as LangGraph's SDKs send `api_key`) or bearer tokens
/// (`Authorization: Bearer ...`), each naming the identity that holds it.
///
/// Only the keys' SHA-256 digests are kept, and a presented key is compared with every one
/// of them in constant time, so neither the time an answer takes nor a memory dump tells
/// a key. `Debug` names the identities only.
///
/// ```
/// use stategraph_server::auth::ApiKeys;
///
/// let keys = ApiKeys::new().key("alice", "sk-alice-secret").key("bob", "sk-bob-secret");
/// assert_eq!(format!("{keys:?}"), r#"ApiKeys { identities: ["alice", "bob"] }"#);
/// ```
#[derive(Clone, Default)]
pub struct ApiKeys {
    keys: Vec<(Identity, [u8; 32])>,
}

impl ApiKeys {
    /// No keys yet: every request is refused until one is added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `secret`, held by `identity`.
    #[must_use]
    pub fn key(mut self, identity: impl Into<String>, secret: impl AsRef<[u8]>) -> Self {
        self.keys.push((
            Identity::new(identity),
            Sha256::digest(secret.as_ref()).into(),
        ));
        self
    }

    /// The identity holding `secret`: every key is compared, whichever matches.
    fn holder(&self, secret: &[u8]) -> Option<&Identity> {
        let presented: [u8; 32] = Sha256::digest(secret).into();
        let mut found = None;
        for (identity, digest) in &self.keys {
            if bool::from(digest.ct_eq(&presented)) {
                found = Some(identity);
            }
        }
        found
    }
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let identities: Vec<&str> = self
            .keys
            .iter()
            .map(|(identity, _)| identity.id())
            .collect();
        f.debug_struct("ApiKeys")
            .field("identities", &identities)
            .finish()
    }
}

/// The secret a request presents: `x-api-key`, else a bearer token.
fn presented(headers: &HeaderMap) -> Result<Option<&[u8]>, AuthRejection> {
    if let Some(key) = headers.get("x-api-key") {
        return Ok(Some(key.as_bytes()));
    }
    let Some(authorization) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = authorization.as_bytes();
    match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => {
            Ok(Some(value[7..].trim_ascii()))
        }
        _ => Err(AuthRejection::Unauthorized(
            "Authorization: only the `Bearer` scheme is accepted".into(),
        )),
    }
}

impl Authenticate for ApiKeys {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Identity, AuthRejection>> {
        let found = presented(&request.headers).and_then(|secret| {
            let secret = secret.ok_or_else(|| {
                AuthRejection::Unauthorized(
                    "no credentials: send an API key in `x-api-key` or `Authorization: Bearer`"
                        .into(),
                )
            })?;
            self.holder(secret).cloned().ok_or_else(|| {
                AuthRejection::Unauthorized("the API key or token is not valid".into())
            })
        });
        Box::pin(std::future::ready(found))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().uri("/threads");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    async fn who(keys: &ApiKeys, headers: &[(&str, &str)]) -> Result<Identity, AuthRejection> {
        keys.authenticate(&parts(headers)).await
    }

    #[tokio::test]
    async fn each_key_names_its_holder_and_other_secrets_are_refused() {
        let keys = ApiKeys::new()
            .key("alice", "a-secret")
            .key("bob", "b-secret");
        assert_eq!(
            who(&keys, &[("x-api-key", "a-secret")]).await,
            Ok(Identity::new("alice"))
        );
        assert_eq!(
            who(&keys, &[("authorization", "Bearer b-secret")]).await,
            Ok(Identity::new("bob"))
        );
        assert_eq!(
            who(&keys, &[("authorization", "bearer  b-secret ")]).await,
            Ok(Identity::new("bob"))
        );
        for headers in [
            &[("x-api-key", "a-secre")][..],
            &[("x-api-key", "a-secret2")],
            &[("x-api-key", "")],
            &[],
        ] {
            assert!(
                matches!(
                    who(&keys, headers).await,
                    Err(AuthRejection::Unauthorized(_))
                ),
                "{headers:?}"
            );
        }
        let basic = who(&keys, &[("authorization", "Basic YTpi")]).await;
        assert_eq!(
            basic,
            Err(AuthRejection::Unauthorized(
                "Authorization: only the `Bearer` scheme is accepted".into()
            ))
        );
    }

    #[tokio::test]
    async fn the_secret_is_in_no_message_and_no_debug_output() {
        let keys = ApiKeys::new().key("alice", "sk-very-secret");
        let refused = who(&keys, &[("x-api-key", "sk-wrong-secret")])
            .await
            .unwrap_err();
        assert!(!refused.to_string().contains("secret"), "{refused}");
        assert!(!format!("{keys:?}").contains("secret"));
    }
}
