//! Each webhook source's own authentication, checked in constant time, and API tokens.
//!
//! - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
//! - GitLab: `X-Gitlab-Token: <token>`, or Standard Webhooks signing (`webhook-id`,
//!   `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`, the
//!   key being the base64 after `whsec_`), within five minutes of the server's clock.
//! - PagerDuty: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]` (one value per active secret
//!   while PagerDuty rotates them).
//! - CDEvents: `Authorization: Bearer <token>`.
//!
//! Every source may have two secrets at once, so a secret is rotated by adding the new one,
//! switching the sender, then removing the old one: no delivery is refused in between.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secrets;

type HmacSha256 = Hmac<Sha256>;

/// How far a Standard Webhooks timestamp may be from the server's clock.
const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// Why a delivery was refused (401); the text is safe to send back and to log: it never holds a
/// secret or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refused(text: impl Into<String>) -> Refused {
    Refused(text.into())
}

/// A request header's value, trimmed.
pub trait HeaderLookup {
    /// The value of `name` (case-insensitive), if present and valid UTF-8.
    fn header(&self, name: &str) -> Option<&str>;
}

impl HeaderLookup for axum::http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
    }
}

/// Whether HMAC-SHA256(`key`, `message`) equals `expected` (constant time).
fn hmac_matches(key: &[u8], message: &[&[u8]], expected: &[u8]) -> bool {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    for part in message {
        mac.update(part);
    }
    mac.verify_slice(expected).is_ok()
}

/// Whether `given` equals one of `secrets` (constant time in the values' contents).
fn token_matches(secrets: &Secrets, given: &str) -> bool {
    secrets.0.iter().fold(false, |found, s| {
        found | bool::from(s.as_bytes().ct_eq(given.as_bytes()))
    })
}

/// GitHub's `X-Hub-Signature-256`.
pub fn github(secrets: &Secrets, headers: &impl HeaderLookup, body: &[u8]) -> Result<(), Refused> {
    let Some(value) = headers.header("x-hub-signature-256") else {
        return Err(refused(
            "missing X-Hub-Signature-256: set the webhook's secret in GitHub to one of [sources.github] secrets",
        ));
    };
    let hex_part = value
        .strip_prefix("sha256=")
        .ok_or_else(|| refused("X-Hub-Signature-256 does not start with sha256="))?;
    let expected =
        hex::decode(hex_part).map_err(|_| refused("X-Hub-Signature-256 is not hexadecimal"))?;
    if secrets
        .0
        .iter()
        .any(|s| hmac_matches(s.as_bytes(), &[body], &expected))
    {
        Ok(())
    } else {
        Err(refused(
            "X-Hub-Signature-256 does not match the body under any configured secret",
        ))
    }
}

/// PagerDuty's `X-PagerDuty-Signature`: any `v1=` value matching under any secret.
pub fn pagerduty(
    secrets: &Secrets,
    headers: &impl HeaderLookup,
    body: &[u8],
) -> Result<(), Refused> {
    let Some(value) = headers.header("x-pagerduty-signature") else {
        return Err(refused(
            "missing X-PagerDuty-Signature: set the webhook subscription's secret as one of [sources.pagerduty] secrets",
        ));
    };
    let signatures: Vec<Vec<u8>> = value
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("v1="))
        .filter_map(|h| hex::decode(h).ok())
        .collect();
    if signatures.is_empty() {
        return Err(refused("X-PagerDuty-Signature holds no v1= signature"));
    }
    let ok = signatures.iter().any(|sig| {
        secrets
            .0
            .iter()
            .any(|s| hmac_matches(s.as_bytes(), &[body], sig))
    });
    if ok {
        Ok(())
    } else {
        Err(refused(
            "X-PagerDuty-Signature does not match the body under any configured secret",
        ))
    }
}

/// GitLab: `X-Gitlab-Token`, or Standard Webhooks signing when signing secrets are configured.
pub fn gitlab(
    tokens: &Secrets,
    signing: &Secrets,
    headers: &impl HeaderLookup,
    body: &[u8],
    now_seconds: i64,
) -> Result<(), Refused> {
    if let Some(signature) = headers.header("webhook-signature")
        && !signing.is_empty()
    {
        return standard_webhook(signing, headers, signature, body, now_seconds);
    }
    if tokens.is_empty() {
        return Err(refused(
            "missing webhook-signature: this server checks GitLab's signing secret ([sources.gitlab] signing_secrets)",
        ));
    }
    match headers.header("x-gitlab-token") {
        Some(given) if token_matches(tokens, given) => Ok(()),
        Some(_) => Err(refused(
            "X-Gitlab-Token is not one of [sources.gitlab] tokens",
        )),
        None => Err(refused(
            "missing X-Gitlab-Token: set the webhook's secret token in GitLab to one of [sources.gitlab] tokens",
        )),
    }
}

fn standard_webhook(
    signing: &Secrets,
    headers: &impl HeaderLookup,
    signature: &str,
    body: &[u8],
    now_seconds: i64,
) -> Result<(), Refused> {
    let id = headers
        .header("webhook-id")
        .ok_or_else(|| refused("missing webhook-id beside webhook-signature"))?;
    let timestamp = headers
        .header("webhook-timestamp")
        .ok_or_else(|| refused("missing webhook-timestamp beside webhook-signature"))?;
    let at: i64 = timestamp
        .parse()
        .map_err(|_| refused("webhook-timestamp is not whole seconds since 1970"))?;
    if (now_seconds - at).abs() > SIGNATURE_TOLERANCE_SECONDS {
        return Err(refused(format!(
            "webhook-timestamp is more than {SIGNATURE_TOLERANCE_SECONDS} seconds from the server's clock (a replay, or a clock off)"
        )));
    }
    let signatures: Vec<Vec<u8>> = signature
        .split_whitespace()
        .filter_map(|part| part.strip_prefix("v1,"))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .collect();
    let message: [&[u8]; 5] = [id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
    let ok = signing.0.iter().any(|secret| {
        let key_text = secret.strip_prefix("whsec_").unwrap_or(secret);
        let key = base64::engine::general_purpose::STANDARD
            .decode(key_text)
            .unwrap_or_else(|_| key_text.as_bytes().to_vec());
        signatures
            .iter()
            .any(|sig| hmac_matches(&key, &message, sig))
    });
    if ok {
        Ok(())
    } else {
        Err(refused(
            "webhook-signature does not match under any configured signing secret",
        ))
    }
}

/// CDEvents (and any CloudEvents sender): `Authorization: Bearer <token>`.
pub fn bearer(tokens: &Secrets, headers: &impl HeaderLookup) -> Result<(), Refused> {
    let Some(value) = headers.header("authorization") else {
        return Err(refused(
            "missing Authorization: send `Authorization: Bearer <token>` with one of [sources.cdevents] tokens",
        ));
    };
    let given = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| refused("Authorization is not a Bearer token"))?;
    if token_matches(tokens, given.trim()) {
        Ok(())
    } else {
        Err(refused(
            "the bearer token is not one of [sources.cdevents] tokens",
        ))
    }
}

/// The stored form of an API token: SHA-256, hex. Tokens are random, so an unsalted hash is
/// enough: there is no dictionary to try.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random API token: `shiplog_` and 32 random bytes, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    // The operating system's generator; without it no token can be made safely.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    format!("shiplog_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct H(Vec<(&'static str, String)>);
    impl HeaderLookup for H {
        fn header(&self, name: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    fn hmac_hex(key: &[u8], body: &[u8]) -> String {
        let mut mac = HmacSha256::new_from_slice(key).expect("any key");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The test vector from GitHub's documentation (quoted in ../shared/payloads/README.md).
    #[test]
    fn github_documented_vector() {
        let secrets = Secrets(vec!["It's a Secret to Everybody".to_owned()]);
        let h = H(vec![(
            "X-Hub-Signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17".to_owned(),
        )]);
        assert_eq!(github(&secrets, &h, b"Hello, World!"), Ok(()));
        assert!(github(&secrets, &h, b"Hello, World?").is_err());
        let other = Secrets(vec!["another".to_owned()]);
        assert!(github(&other, &h, b"Hello, World!").is_err());
        assert!(github(&secrets, &H(vec![]), b"Hello, World!").is_err());
    }

    #[test]
    fn pagerduty_rotation_accepts_either_value() {
        let body = b"{\"event\":{}}";
        let old = hmac_hex(b"old", body);
        let new = hmac_hex(b"new", body);
        let both = H(vec![(
            "X-PagerDuty-Signature",
            format!("v1={old},v1={new}"),
        )]);
        assert_eq!(
            pagerduty(&Secrets(vec!["new".to_owned()]), &both, body),
            Ok(())
        );
        assert_eq!(
            pagerduty(&Secrets(vec!["old".to_owned()]), &both, body),
            Ok(())
        );
        assert!(pagerduty(&Secrets(vec!["other".to_owned()]), &both, body).is_err());
    }

    #[test]
    fn gitlab_standard_webhooks() {
        let key = b"0123456789abcdef0123456789abcdef";
        let secret = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        );
        let body = b"{\"object_kind\":\"deployment\"}";
        let mut mac = HmacSha256::new_from_slice(key).expect("key");
        mac.update(b"msg_1.1700000000.");
        mac.update(body);
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let h = H(vec![
            ("webhook-id", "msg_1".to_owned()),
            ("webhook-timestamp", "1700000000".to_owned()),
            ("webhook-signature", format!("v1,AAAA v1,{sig}")),
        ]);
        let signing = Secrets(vec![secret]);
        let none = Secrets::default();
        assert_eq!(gitlab(&none, &signing, &h, body, 1_700_000_010), Ok(()));
        // Too far from the clock: a replay.
        assert!(gitlab(&none, &signing, &h, body, 1_700_001_000).is_err());
        assert!(gitlab(&none, &signing, &h, b"{}", 1_700_000_010).is_err());
    }

    #[test]
    fn gitlab_token_and_bearer() {
        let tokens = Secrets(vec!["a".to_owned(), "b".to_owned()]);
        let none = Secrets::default();
        let h = |v: &str| H(vec![("X-Gitlab-Token", v.to_owned())]);
        assert_eq!(gitlab(&tokens, &none, &h("b"), b"", 0), Ok(()));
        assert!(gitlab(&tokens, &none, &h("c"), b"", 0).is_err());
        assert!(gitlab(&tokens, &none, &H(vec![]), b"", 0).is_err());
        let auth = |v: &str| H(vec![("Authorization", v.to_owned())]);
        assert_eq!(bearer(&tokens, &auth("Bearer a")), Ok(()));
        assert!(bearer(&tokens, &auth("Bearer ab")).is_err());
        assert!(bearer(&tokens, &auth("a")).is_err());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("shiplog_") && a.len() == 8 + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
