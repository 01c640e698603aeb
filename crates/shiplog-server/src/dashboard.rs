//! The dashboard's routes: `/` (every team and service), `/services/{name}`, `/teams/{name}`,
//! `/practices/{name}` (the report's pages, rendered live by the engine), `/guide`,
//! `/export/{table}.csv`
//! (every table as CSV), and the sign-in form that turns a read token into a cookie.
//!
//! The pages are the engine's answers like any other read (cached the same way), so the server
//! adds only what a browser needs: a redirect to the sign-in form instead of a JSON 401, and a
//! cookie. The cookie grants reads only (see [`crate::api::authorize`]), is `HttpOnly` and
//! `SameSite=Strict`, and holds the token itself: revoking the token signs every browser out.

// A handler's early answer is a whole `Response`: boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::{Form, Path, Query as QueryParams, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use serde::Deserialize;
use shiplog_store::TokenScope;

use crate::auth;
use crate::{AppState, Page, Query};

/// The cookie that carries a read token.
const COOKIE: &str = "shiplog_token";

/// The token in the request's dashboard cookie, if any.
pub(crate) fn token_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|s, h, q| page(Page::Home, "/".into(), s, h, q)))
        .route(
            "/services/{name}",
            get(|Path(n): Path<String>, s, h, q| {
                let path = format!("/services/{n}");
                page(Page::Service(n), path, s, h, q)
            }),
        )
        .route(
            "/teams/{name}",
            get(|Path(n): Path<String>, s, h, q| {
                let path = format!("/teams/{n}");
                page(Page::Team(n), path, s, h, q)
            }),
        )
        .route(
            "/practices/{name}",
            get(|Path(n): Path<String>, s, h, q| {
                let path = format!("/practices/{n}");
                page(Page::Practice(n), path, s, h, q)
            }),
        )
        .route(
            "/guide",
            get(|s, h, q| page(Page::Guide, "/guide".into(), s, h, q)),
        )
        .route("/export/{file}", get(export))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

/// A local path to come back to after signing in; anything else (another site, `//host`) is `/`.
fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Sends a browser without a valid token to the sign-in form; other failures as they are.
async fn allowed(state: &AppState, headers: &HeaderMap, back_to: &str) -> Result<(), Response> {
    match crate::api::authorize(state, headers, TokenScope::Read).await {
        Ok(()) => Ok(()),
        Err(r) if r.status() == StatusCode::UNAUTHORIZED => Err(Redirect::to(&format!(
            "/login?next={}",
            percent(local_path(back_to))
        ))
        .into_response()),
        Err(r) => Err(r),
    }
}

/// The request's path and query, for coming back after signing in.
fn here(path: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent(k), percent(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

/// Answers `query` from the cache or the engine.
pub(crate) async fn answer(
    state: &AppState,
    query: Query,
    params: &[(String, String)],
) -> Result<String, Response> {
    let key = format!("{query:?} {params:?}");
    if let Some(text) = state.answers.get(&key) {
        return Ok(text);
    }
    let generation = state.answers.generation();
    match state.engine.query(&query, params).await {
        Ok(text) => {
            state.answers.put(key, generation, text.clone());
            Ok(text)
        }
        Err(e) => Err(crate::api::engine_error(e)),
    }
}

/// An engine error as a page a person can read (the JSON of the API is for programs).
fn error_page(status: StatusCode, message: &str) -> Response {
    let body = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "shiplog · " (status.as_u16()) } }
            body style="font:15px system-ui,sans-serif;margin:2em;max-width:60em" {
                p { a href="/" { "All teams and services" } }
                h1 { (status.canonical_reason().unwrap_or("Error")) }
                pre style="white-space:pre-wrap" { (message) }
            }
        }
    };
    (status, Html(body.into_string())).into_response()
}

async fn page(
    which: Page,
    path: String,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = allowed(&state, &headers, &here(&path, &params)).await {
        return r;
    }
    // An empty field of the filter form means "the default".
    let params: Vec<(String, String)> = params.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    match answer(&state, Query::Page(which), &params).await {
        Ok(html) => Html(html).into_response(),
        Err(r) => {
            let status = r.status();
            let bytes = axum::body::to_bytes(r.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            error_page(status, &message)
        }
    }
}

async fn export(
    Path(file): Path<String>,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = crate::api::authorize(&state, &headers, TokenScope::Read).await {
        return r;
    }
    let Some(table) = file.strip_suffix(".csv") else {
        return crate::api::error_response(
            StatusCode::NOT_FOUND,
            format!("no export {file:?}: the exports are /export/TABLE.csv"),
        );
    };
    let params: Vec<(String, String)> = params.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    match answer(&state, Query::Export(table.to_owned()), &params).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"shiplog-{table}.csv\""),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
struct NextParam {
    next: Option<String>,
}

fn login_page(next: &str, problem: Option<&str>) -> maud::Markup {
    maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "shiplog · sign in" }
            }
            body style="font:15px system-ui,sans-serif;margin:3em auto;max-width:32em;padding:0 1em" {
                h1 { "Sign in to shiplog" }
                @if let Some(problem) = problem { p role="alert" style="color:#D55E00" { (problem) } }
                form method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    p { label { "API token (any scope; the dashboard only reads)" br;
                        input type="password" name="token" autocomplete="current-password" required size="48" autofocus; } }
                    p { button type="submit" { "Sign in" } }
                }
                p style="color:#57606a" { "Create a token on the server's machine with "
                    code { "shiplog serve token create --name NAME --scope read" } ". The browser keeps it in a cookie until you sign out or the token is revoked." }
            }
        }
    }
}

async fn login_form(QueryParams(p): QueryParams<NextParam>) -> Response {
    let next = local_path(p.next.as_deref().unwrap_or("/"));
    Html(login_page(next, None).into_string()).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

async fn login(State(state): State<Arc<AppState>>, Form(form): Form<LoginForm>) -> Response {
    let next = local_path(form.next.as_deref().unwrap_or("/")).to_owned();
    let token = form.token.trim();
    match state.store.token_by_hash(&auth::token_hash(token)).await {
        Ok(Some(t)) if t.scope.allows(TokenScope::Read) => {
            tracing::info!(token = %t.name, "dashboard sign-in");
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, next),
                    (
                        header::SET_COOKIE,
                        format!(
                            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
                        ),
                    ),
                ],
            )
                .into_response()
        }
        Ok(_) => (
            StatusCode::UNAUTHORIZED,
            Html(login_page(&next, Some("That token is unknown or revoked.")).into_string()),
        )
            .into_response(),
        Err(e) => crate::api::error_response(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

async fn logout() -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/login".to_owned()),
            (
                header::SET_COOKIE,
                format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
            ),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            local_path("/services/api?since=30d"),
            "/services/api?since=30d"
        );
        assert_eq!(local_path("//evil.example/x"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; shiplog_token=abc ; b=2".parse().expect("header"),
        );
        assert_eq!(token_cookie(&headers), Some("abc"));
        headers.insert(header::COOKIE, "shiplog_token=".parse().expect("header"));
        assert_eq!(token_cookie(&headers), None);
    }
}
