//! The OpenAPI document served at `/api/v1/openapi.json`: the endpoints, their parameters and
//! scopes. Kept by hand beside the routes (crates/shiplog-server/src/api.rs); a test checks that
//! every route is in it.

/// The document.
pub(crate) const DOCUMENT: &str = include_str!("openapi.json");
