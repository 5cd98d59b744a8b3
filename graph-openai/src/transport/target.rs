//! Where requests go, worked out once from the endpoint URL: the address to connect to,
//! the `Host` header, the request target, and whether TLS is needed.

use reqwest::Url;
use reqwest::header::HeaderValue;

/// The endpoint, split into what each layer needs.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The full endpoint, for the reqwest fallback. May hold credentials: never shown.
    pub(crate) url: Url,
    /// `https`.
    pub(crate) tls: bool,
    /// The host to connect to and to name in TLS: a domain or an IP, without brackets.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The `Host` header: the host (bracketed when IPv6) and the port unless it is the
    /// scheme's default.
    pub(crate) authority: HeaderValue,
    /// The request target: path and query (origin form).
    pub(crate) path_and_query: hyper::Uri,
}

impl Target {
    /// Splits `url`, an `http(s)` URL with a host.
    pub(crate) fn new(url: &Url) -> Result<Self, String> {
        let shown_host = url.host_str().ok_or("the base URL has no host")?;
        // An IPv6 host is bracketed in URLs and `Host` headers, bare in socket addresses.
        let host = shown_host
            .strip_prefix('[')
            .and_then(|ip| ip.strip_suffix(']'))
            .unwrap_or(shown_host)
            .to_owned();
        let port = url
            .port_or_known_default()
            .ok_or("the base URL has no port")?;
        let authority = match url.port() {
            Some(port) => format!("{shown_host}:{port}"),
            None => shown_host.to_owned(),
        };
        let authority = HeaderValue::try_from(authority)
            .map_err(|_| "the base URL's host cannot be a Host header".to_owned())?;
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let path_and_query = hyper::Uri::try_from(path_and_query)
            .map_err(|error| format!("the base URL's path is not valid: {error}"))?;
        Ok(Self {
            url: url.clone(),
            tls: url.scheme() == "https",
            host,
            port,
            authority,
            path_and_query,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_ports_and_paths_are_split_for_each_layer() {
        let url = Url::parse("http://u:p@[::1]:8080/v1/chat/completions?api-version=1").unwrap();
        let target = Target::new(&url).unwrap();
        assert_eq!(target.host, "::1");
        assert_eq!(target.port, 8080);
        assert_eq!(target.authority, "[::1]:8080");
        assert_eq!(target.path_and_query, "/v1/chat/completions?api-version=1");
        assert!(!target.tls);

        let url = Url::parse("https://api.openai.com/v1/chat/completions").unwrap();
        let target = Target::new(&url).unwrap();
        assert_eq!((target.host.as_str(), target.port), ("api.openai.com", 443));
        assert_eq!(target.authority, "api.openai.com");
        assert!(target.tls);
    }
}
