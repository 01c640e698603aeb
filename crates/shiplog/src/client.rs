//! `--server URL`: `shiplog record` and `shiplog import` post to a team server instead of writing
//! a local store, so a CI job records a deployment with the command it already runs and one more
//! flag. The token comes from `SHIPLOG_TOKEN`.
//!
//! Connection errors and 5xx answers are retried with backoff (0.5 s, 1 s, 2 s, 4 s): the records'
//! ids make a retry harmless. A 4xx answer is the request's fault and is reported at once, with
//! the server's own error text.

use std::time::Duration;

use anyhow::{Result, bail};

/// Waits between attempts.
const BACKOFF: [Duration; 4] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];

/// Posts `body` (records in the import schema) to `server`'s `/api/v1/events`, with the query
/// `query` (e.g. `allow-before-commit=true`); returns the server's answer.
pub fn post_events(server: &str, body: &[u8], query: &str) -> Result<serde_json::Value> {
    let base = server.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        bail!(
            "--server {server:?}: expected an http:// or https:// URL, e.g. http://shiplog.internal:8080"
        );
    }
    let url = if query.is_empty() {
        format!("{base}/api/v1/events")
    } else {
        format!("{base}/api/v1/events?{query}")
    };
    let token = std::env::var("SHIPLOG_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut attempt = 0;
    loop {
        let mut request = agent
            .post(&url)
            .header("Content-Type", "application/x-ndjson");
        if let Some(token) = &token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let failure = match request.send(body) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let text = response.body_mut().read_to_string().unwrap_or_default();
                let message = || {
                    serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["error"].as_str().map(str::to_owned))
                        .unwrap_or_else(|| text.clone())
                };
                match status {
                    200..=299 => {
                        return serde_json::from_str(&text).map_err(|e| {
                            anyhow::anyhow!(
                                "{base} answered {status} with something that is not JSON ({e})"
                            )
                        });
                    }
                    401 | 403 => bail!(
                        "{base} refused the request ({status}): {}\nhint: set SHIPLOG_TOKEN to a token of scope events:write (`shiplog serve token create --scope events:write` on the server)",
                        message()
                    ),
                    400..=499 => bail!("{base} refused the records ({status}): {}", message()),
                    _ => format!("{base} answered {status}: {}", message()),
                }
            }
            Err(e) => format!("cannot reach {base}: {e}"),
        };
        let Some(wait) = BACKOFF.get(attempt) else {
            bail!(
                "{failure}\nnothing was recorded after {} attempts; retrying the command is safe (records are identified by their ids)",
                attempt + 1
            );
        };
        attempt += 1;
        std::thread::sleep(*wait);
    }
}

/// What the server said it wrote of one kind of record: `recorded`, `updated` or `unchanged`.
pub fn written(answer: &serde_json::Value, kind: &str) -> &'static str {
    let counts = &answer[kind];
    if counts["new"].as_u64().unwrap_or(0) > 0 {
        "recorded"
    } else if counts["updated"].as_u64().unwrap_or(0) > 0 {
        "updated"
    } else {
        "unchanged"
    }
}
