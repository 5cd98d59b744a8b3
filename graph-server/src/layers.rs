//! The layers around every route. Outermost first: CORS (a browser's preflight is answered
//! before anyone asks who sends it, as it carries no credentials), the security headers,
//! authentication (a refused request never reaches a route or the body limit), and the
//! body limit.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowHeaders, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Authenticate;
use crate::error::ServerError;
use crate::routes;

/// What the layers are built from.
pub(crate) struct Layers {
    pub(crate) body_limit: usize,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) auth: Option<Arc<dyn Authenticate>>,
}

/// Response headers a browser reads that the SDKs need: where a run's record and its
/// stream are.
const EXPOSED: [HeaderName; 2] = [header::CONTENT_LOCATION, header::LOCATION];

impl Layers {
    pub(crate) fn wrap(self, router: Router) -> Result<Router, ServerError> {
        let limit = self.body_limit;
        let mut router = router
            .layer(DefaultBodyLimit::disable())
            .layer(RequestBodyLimitLayer::new(limit))
            .layer(axum::middleware::map_response(move |response| {
                routes::json_413(response, limit)
            }));
        if let Some(auth) = self.auth {
            router = router.layer(axum::middleware::from_fn_with_state(
                auth,
                crate::auth::layer::authenticate,
            ));
        }
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
        if !self.cors_origins.is_empty() {
            router = router.layer(cors(&self.cors_origins)?);
        }
        Ok(router)
    }
}

/// Lets pages from `origins` call the server (the SDKs' headers and methods, the run
/// locations readable); a page from any other origin gets no CORS headers, so its browser
/// refuses it the answer.
fn cors(origins: &[String]) -> Result<CorsLayer, ServerError> {
    let origins = origins
        .iter()
        .map(|origin| {
            let valid = origin.starts_with("http://") || origin.starts_with("https://");
            HeaderValue::from_str(origin)
                .ok()
                .filter(|_| valid && !origin.ends_with('/'))
                .ok_or_else(|| ServerError::CorsOrigin {
                    origin: origin.clone(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(EXPOSED)
        .max_age(std::time::Duration::from_secs(600)))
}
