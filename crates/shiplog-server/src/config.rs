//! `shiplog-server.toml`: where the server listens, where it keeps its data, the repository it
//! analyses, and each webhook source's secrets.
//!
//! Secrets are never written in the file itself if the operator prefers not to: each may be given
//! as `env:NAME` (read from the environment at start) or `file:PATH` (read from a file, trailing
//! newline dropped), so the file can be committed. A bad file fails the start with its path, line,
//! column and key.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data_dir = "./shiplog-data"
//! fetch_interval = "5m"
//!
//! [[repository]]
//! name = "shop"
//! url = "https://github.com/acme/shop.git"
//! config = "shiplog.toml"          # services, teams, paths (optional)
//! deploys = "recorded"             # or "tags", "merges=main", ...
//!
//! [sources.github]
//! secrets = ["env:GITHUB_WEBHOOK_SECRET"]
//! [sources.pagerduty]
//! secrets = ["file:/run/secrets/pd-old", "file:/run/secrets/pd-new"]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A problem with the server's configuration, naming the file, the place and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid, or a value in it is not.
    #[error("{file}{}: {key}{message}", position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Invalid {
        /// The file.
        file: String,
        /// Line and column, from 1.
        position: Option<(usize, usize)>,
        /// The key (with a trailing `: `), or empty.
        key: String,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// The most secrets a source may have at once: the current one and the one being rotated in.
pub const MAX_SECRETS: usize = 2;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    fetch_interval: Option<String>,
    processing_lease: Option<String>,
    #[serde(default)]
    repository: Vec<RawRepository>,
    #[serde(default)]
    sources: RawSources,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepository {
    name: String,
    url: String,
    config: Option<PathBuf>,
    deploys: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSources {
    github: Option<RawSecrets>,
    gitlab: Option<RawGitLab>,
    pagerduty: Option<RawSecrets>,
    cdevents: Option<RawTokens>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    #[serde(default)]
    secrets: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTokens {
    #[serde(default)]
    tokens: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGitLab {
    #[serde(default)]
    tokens: Vec<String>,
    #[serde(default)]
    signing_secrets: Vec<String>,
}

/// A repository the server analyses: it keeps a bare mirror of `url` under the data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryConfig {
    /// Its name (the mirror's directory name).
    pub name: String,
    /// Where it is fetched from (`https://`, `ssh://`, `file://`, a path).
    pub url: String,
    /// Its shiplog.toml (services, teams, monorepo paths), relative to the server config's
    /// directory.
    pub config: Option<PathBuf>,
    /// Where deployments come from, as `shiplog metrics --deploys` takes it; `None`: recorded.
    pub deploys: Option<String>,
}

/// The secrets that authenticate one source's webhooks. Empty: authentication is off for it
/// (allowed on a loopback address only).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(pub Vec<String>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
    }
}

impl Secrets {
    /// Whether no secret is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Each source's credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSecrets {
    /// GitHub: HMAC-SHA256 secrets for `X-Hub-Signature-256`.
    pub github: Secrets,
    /// GitLab: `X-Gitlab-Token` values.
    pub gitlab_tokens: Secrets,
    /// GitLab: Standard Webhooks signing secrets (`whsec_...`).
    pub gitlab_signing: Secrets,
    /// PagerDuty: HMAC-SHA256 secrets for `X-PagerDuty-Signature`.
    pub pagerduty: Secrets,
    /// CDEvents: bearer tokens.
    pub cdevents: Secrets,
}

/// The server's configuration, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Where the store (SQLite), mirrors and caches live.
    pub data_dir: PathBuf,
    /// How often each mirror is fetched besides push webhooks.
    pub fetch_interval: Duration,
    /// How long a claim on a delivery lasts before another process may take it over.
    pub processing_lease: Duration,
    /// The repositories.
    pub repositories: Vec<RepositoryConfig>,
    /// Webhook credentials.
    pub secrets: SourceSecrets,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("shiplog-data"),
            fetch_interval: Duration::from_secs(300),
            processing_lease: Duration::from_secs(60),
            repositories: Vec::new(),
            secrets: SourceSecrets::default(),
        }
    }
}

/// Line and column (from 1) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// `30s`, `5m`, `2h`: a duration of whole seconds, minutes or hours.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| {
        format!("expected a duration such as \"30s\", \"5m\" or \"1h\", got {text:?}")
    })?;
    let seconds = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    }
    .filter(|s| *s > 0)
    .ok_or_else(|| {
        format!("expected a positive duration such as \"30s\", \"5m\" or \"1h\", got {text:?}")
    })?;
    Ok(Duration::from_secs(seconds))
}

/// A secret as written (`env:NAME`, `file:PATH` or the value itself) resolved to its value.
fn resolve_secret(written: &str, base_dir: &Path) -> Result<String, String> {
    let value = if let Some(name) = written.strip_prefix("env:") {
        std::env::var(name).map_err(|_| {
            format!("the environment variable {name} is not set (the secret is read from it)")
        })?
    } else if let Some(path) = written.strip_prefix("file:") {
        let path = base_dir.join(path);
        std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_owned()
    } else {
        written.to_owned()
    };
    if value.is_empty() {
        return Err("the secret is empty".to_owned());
    }
    Ok(value)
}

impl ServerConfig {
    /// Parses configuration `text` read from `file` (labels messages); relative paths start at
    /// `base_dir`.
    pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<ServerConfig, ConfigError> {
        let invalid =
            |position: Option<(usize, usize)>, key: &str, message: String| ConfigError::Invalid {
                file: file.to_owned(),
                position,
                key: if key.is_empty() {
                    String::new()
                } else {
                    format!("{key}: ")
                },
                message,
            };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            invalid(
                e.span().map(|s| position(text, s.start)),
                "",
                e.message().trim().to_owned(),
            )
        })?;
        // Values are checked after parsing, so their problems name the key without a position.
        let find = |key: &str| {
            text.find(&format!("{key} ="))
                .or_else(|| text.find(&format!("{key}=")))
                .map(|o| position(text, o))
        };
        let mut config = ServerConfig::default();
        if let Some(listen) = &raw.listen {
            config.listen = listen.parse().map_err(|_| {
                invalid(
                    find("listen"),
                    "listen",
                    format!(
                        "expected an address and port such as \"127.0.0.1:8080\", got {listen:?}"
                    ),
                )
            })?;
        }
        if let Some(dir) = raw.data_dir {
            config.data_dir = base_dir.join(dir);
        } else {
            config.data_dir = base_dir.join(&config.data_dir);
        }
        if let Some(text_value) = &raw.fetch_interval {
            config.fetch_interval = parse_duration(text_value)
                .map_err(|m| invalid(find("fetch_interval"), "fetch_interval", m))?;
        }
        if let Some(text_value) = &raw.processing_lease {
            config.processing_lease = parse_duration(text_value)
                .map_err(|m| invalid(find("processing_lease"), "processing_lease", m))?;
        }
        for (i, r) in raw.repository.into_iter().enumerate() {
            let key = format!("repository[{i}].name");
            if r.name.is_empty()
                || !r
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                || r.name.starts_with('.')
            {
                return Err(invalid(
                    find("name"),
                    &key,
                    format!(
                        "expected a name of ASCII letters, digits, '-', '_' and '.' (it names the mirror's directory), got {:?}",
                        r.name
                    ),
                ));
            }
            if config.repositories.iter().any(|o| o.name == r.name) {
                return Err(invalid(
                    find("name"),
                    &key,
                    format!("the repository name {:?} is given twice", r.name),
                ));
            }
            if r.url.trim().is_empty() {
                return Err(invalid(
                    find("url"),
                    &format!("repository[{i}].url"),
                    "expected the repository's URL or path, got an empty string".to_owned(),
                ));
            }
            config.repositories.push(RepositoryConfig {
                name: r.name,
                url: r.url,
                config: r.config.map(|p| base_dir.join(p)),
                deploys: r.deploys,
            });
        }
        let secrets = |key: &str, written: &[String]| -> Result<Secrets, ConfigError> {
            if written.len() > MAX_SECRETS {
                return Err(invalid(
                    find(key.rsplit('.').next().unwrap_or(key)),
                    key,
                    format!(
                        "at most {MAX_SECRETS} secrets may be active at once (the current one and the next, while rotating), got {}",
                        written.len()
                    ),
                ));
            }
            written
                .iter()
                .map(|w| resolve_secret(w, base_dir))
                .collect::<Result<Vec<_>, _>>()
                .map(Secrets)
                .map_err(|m| invalid(find(key.rsplit('.').next().unwrap_or(key)), key, m))
        };
        let s = &raw.sources;
        config.secrets = SourceSecrets {
            github: secrets(
                "sources.github.secrets",
                s.github.as_ref().map_or(&[][..], |g| &g.secrets),
            )?,
            gitlab_tokens: secrets(
                "sources.gitlab.tokens",
                s.gitlab.as_ref().map_or(&[][..], |g| &g.tokens),
            )?,
            gitlab_signing: secrets(
                "sources.gitlab.signing_secrets",
                s.gitlab.as_ref().map_or(&[][..], |g| &g.signing_secrets),
            )?,
            pagerduty: secrets(
                "sources.pagerduty.secrets",
                s.pagerduty.as_ref().map_or(&[][..], |g| &g.secrets),
            )?,
            cdevents: secrets(
                "sources.cdevents.tokens",
                s.cdevents.as_ref().map_or(&[][..], |g| &g.tokens),
            )?,
        };
        Ok(config)
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        ServerConfig::parse(&text, &path.display().to_string(), base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_is_read() {
        let text = "listen = \"127.0.0.1:9000\"\ndata_dir = \"d\"\nfetch_interval = \"2m\"\n\n[[repository]]\nname = \"shop\"\nurl = \"file:///tmp/shop\"\ndeploys = \"tags\"\n\n[sources.github]\nsecrets = [\"one\", \"two\"]\n[sources.cdevents]\ntokens = [\"t\"]\n";
        let c = ServerConfig::parse(text, "s.toml", Path::new("/base")).expect("valid");
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!(c.data_dir, PathBuf::from("/base/d"));
        assert_eq!(c.fetch_interval, Duration::from_secs(120));
        assert_eq!(c.repositories[0].name, "shop");
        assert_eq!(c.repositories[0].deploys.as_deref(), Some("tags"));
        assert_eq!(c.secrets.github.0, vec!["one".to_owned(), "two".to_owned()]);
        assert_eq!(c.secrets.cdevents.0, vec!["t".to_owned()]);
        assert!(c.secrets.pagerduty.is_empty());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = ServerConfig::parse(
            "listen = \"127.0.0.1:8080\"\nlisten_on = 3\n",
            "s.toml",
            Path::new("."),
        )
        .expect_err("unknown key");
        let text = e.to_string();
        assert!(text.starts_with("s.toml:2:1: "), "{text}");
        assert!(text.contains("listen_on"), "{text}");

        let e = ServerConfig::parse("\n\nlisten = \"localhost\"\n", "s.toml", Path::new("."))
            .expect_err("bad address");
        assert_eq!(
            e.to_string(),
            "s.toml:3:1: listen: expected an address and port such as \"127.0.0.1:8080\", got \"localhost\""
        );

        let e = ServerConfig::parse(
            "[sources.pagerduty]\nsecrets = [\"a\", \"b\", \"c\"]\n",
            "s.toml",
            Path::new("."),
        )
        .expect_err("three secrets");
        assert!(e.to_string().contains("at most 2 secrets"), "{e}");

        let e = ServerConfig::parse(
            "[sources.github]\nsecrets = [\"env:SHIPLOG_TEST_UNSET_VARIABLE_X\"]\n",
            "s.toml",
            Path::new("."),
        )
        .expect_err("unset variable");
        assert!(
            e.to_string()
                .contains("sources.github.secrets: the environment variable SHIPLOG_TEST_UNSET_VARIABLE_X is not set"),
            "{e}"
        );
    }

    #[test]
    fn secrets_are_read_from_files_and_never_printed() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("gh"), "s3cr3t\n").expect("write");
        let c = ServerConfig::parse(
            "[sources.github]\nsecrets = [\"file:gh\"]\n",
            "s.toml",
            dir.path(),
        )
        .expect("valid");
        assert_eq!(c.secrets.github.0, vec!["s3cr3t".to_owned()]);
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 minutes").is_err());
    }
}
