//! Who is asking: the hook a server is given to turn a request into an [`Identity`]
//! ([`Authenticate`], or the built-in [`ApiKeys`]), the layer that asks it on every request,
//! and the scoping of threads and their runs to the identity that created them.

mod api_keys;
mod hook;
pub(crate) mod layer;
pub(crate) mod owner;

pub use api_keys::ApiKeys;
pub use hook::{AuthRejection, Authenticate, Identity};
