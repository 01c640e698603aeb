//! Links from the report to the repository's web pages: a commit, a pull request.
//!
//! The web address comes from configuration or from the `origin` remote's URL, which is turned
//! into its web form: `git@github.com:acme/app.git` and `https://github.com/acme/app.git` both
//! give `https://github.com/acme/app`. Pull-request keys carry their repository
//! (`github:acme/app#12`, `gitlab:group/app!7`), so their links need no remote.

use shiplog_core::Sha;

/// The repository's web address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebLinks {
    base: String,
}

impl WebLinks {
    /// From a web address given in configuration (`https://github.com/acme/app`).
    pub fn new(base: &str) -> Option<Self> {
        let base = base.trim().trim_end_matches('/');
        (base.starts_with("https://") || base.starts_with("http://")).then(|| Self {
            base: base.trim_end_matches(".git").to_owned(),
        })
    }

    /// From a remote URL: `git@host:path(.git)`, `ssh://git@host/path`, `https://host/path(.git)`.
    /// Local paths and `file://` URLs have no web page.
    ///
    /// ```
    /// use shiplog_report::page::WebLinks;
    /// let web = WebLinks::from_remote("git@github.com:acme/app.git").unwrap();
    /// assert_eq!(web.base(), "https://github.com/acme/app");
    /// assert!(WebLinks::from_remote("/srv/git/app.git").is_none());
    /// ```
    pub fn from_remote(url: &str) -> Option<Self> {
        let url = url.trim();
        let (host, path) = if let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            rest.split_once('/')?
        } else if let Some(rest) = url.strip_prefix("ssh://") {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            let (host, path) = rest.split_once('/')?;
            (host.split(':').next()?, path)
        } else if !url.contains("://") && url.contains(':') {
            let (user_host, path) = url.split_once(':')?;
            let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
            if host.contains('/') || host.is_empty() {
                return None;
            }
            (host, path)
        } else {
            return None;
        };
        let path = path.trim_matches('/').trim_end_matches(".git");
        if host.is_empty() || path.is_empty() {
            return None;
        }
        Some(Self {
            base: format!("https://{host}/{path}"),
        })
    }

    /// The web address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A commit's page (GitHub, GitLab, Gitea and Bitbucket all accept `/commit/SHA`).
    pub fn commit(&self, sha: &Sha) -> String {
        format!("{}/commit/{sha}", self.base)
    }
}

/// A pull request's page from its key: `github:OWNER/REPO#N` or `gitlab:PATH!N`.
pub fn pull_request_url(key: &str) -> Option<String> {
    if let Some(rest) = key.strip_prefix("github:") {
        let (repo, number) = rest.rsplit_once('#')?;
        number.parse::<u64>().ok()?;
        return Some(format!("https://github.com/{repo}/pull/{number}"));
    }
    if let Some(rest) = key.strip_prefix("gitlab:") {
        let (path, iid) = rest.rsplit_once('!')?;
        iid.parse::<u64>().ok()?;
        return Some(format!("https://gitlab.com/{path}/-/merge_requests/{iid}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_become_web_addresses() {
        for (remote, web) in [
            (
                "git@github.com:acme/app.git",
                Some("https://github.com/acme/app"),
            ),
            (
                "https://github.com/acme/app.git",
                Some("https://github.com/acme/app"),
            ),
            (
                "https://user:token@gitlab.com/g/sub/app",
                Some("https://gitlab.com/g/sub/app"),
            ),
            (
                "ssh://git@gitlab.com:2222/g/app.git",
                Some("https://gitlab.com/g/app"),
            ),
            ("/srv/git/app.git", None),
            ("file:///srv/git/app.git", None),
            ("../app", None),
        ] {
            assert_eq!(
                WebLinks::from_remote(remote).as_ref().map(WebLinks::base),
                web,
                "{remote}"
            );
        }
    }

    #[test]
    fn pull_request_keys_link_their_pages() {
        assert_eq!(
            pull_request_url("github:acme/app#12").as_deref(),
            Some("https://github.com/acme/app/pull/12")
        );
        assert_eq!(
            pull_request_url("gitlab:g/app!7").as_deref(),
            Some("https://gitlab.com/g/app/-/merge_requests/7")
        );
        assert_eq!(pull_request_url("github:acme/app#x"), None);
        assert_eq!(pull_request_url("local:12"), None);
    }
}
