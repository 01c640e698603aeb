//! Release trains and versions read from tag names.
//!
//! A repository that tags more than one thing (`tool-1.2.0` for a helper beside `1.5.0` for the
//! product, `@acme/web@2.0.1` from changesets, `api-v1.2.3` from release-please, Go's
//! `sub/module/v1.2.3`) ships several products. Each *train* is its own deployment chain, so that a
//! helper's release never "rolls back" the product. Within a train, the *version* orders releases
//! that finish at the same time and tells a maintenance or backfilled release (lower than a version
//! already deployed) from a rollback (see [`crate::attribution`]).
//!
//! A tag is split at the last separator (`@`, `-`, `/`, `_`) that is followed by a version:
//! digits in dot-separated parts with an optional leading `v`, an optional pre-release suffix that
//! starts with a letter (`-rc1`, `-beta.2`) and optional build metadata (`+build.5`, ignored).
//! What comes before is the train, with the separator dropped; the main train is the empty one.
//!
//! | tag               | train          | version     |
//! |-------------------|----------------|-------------|
//! | `v1.2.3`          | (main)         | 1.2.3       |
//! | `1.5.0-rc1`       | (main)         | 1.5.0-rc1   |
//! | `tool-1.2.0`      | `tool`         | 1.2.0       |
//! | `api-v2.0.0`      | `api`          | 2.0.0       |
//! | `@acme/web@2.0.1` | `@acme/web`    | 2.0.1       |
//! | `sub/mod/v1.2.3`  | `sub/mod`      | 1.2.3       |
//! | `latest`          | no release     |             |

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use crate::names::{NameError, ServiceName};

/// A version read from a tag: numeric parts and an optional pre-release suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The dot-separated numbers, e.g. `[1, 2, 3]`.
    pub numbers: Vec<u64>,
    /// The pre-release suffix without its dash, e.g. `rc1`.
    pub pre: Option<String>,
}

impl Version {
    /// Whether this is a pre-release (`-rc1`, `-beta.2`).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.numbers.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{n}")?;
        }
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        Ok(())
    }
}

impl Ord for Version {
    /// Numbers compared part by part (missing parts are 0: `1.2` = `1.2.0`); a pre-release is
    /// below its release; pre-releases compare by their runs of letters and of digits, digits as
    /// numbers (`rc2` < `rc10`).
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.numbers.len().max(other.numbers.len());
        for i in 0..len {
            let a = self.numbers.get(i).copied().unwrap_or(0);
            let b = other.numbers.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => natural(a, b),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares runs of digits as numbers and everything else as text.
fn natural(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let run = |s: &str| {
            let digits = s.starts_with(|c: char| c.is_ascii_digit());
            let end = s
                .find(|c: char| c.is_ascii_digit() != digits)
                .unwrap_or(s.len());
            (digits, end)
        };
        let ((da, ea), (db, eb)) = (run(a), run(b));
        let (ra, rb) = (&a[..ea], &b[..eb]);
        let order = if da && db {
            let (ta, tb) = (ra.trim_start_matches('0'), rb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            ra.cmp(rb)
        };
        if order != Ordering::Equal {
            return order;
        }
        a = &a[ea..];
        b = &b[eb..];
    }
}

/// A tag read as a release: the train it belongs to and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The train, e.g. `tool` or `@acme/web`; empty for the main train (`v1.2.3`, `1.2.3`).
    pub train: String,
    /// The version.
    pub version: Version,
}

impl Release {
    /// Whether this release is of the main train.
    pub fn is_main_train(&self) -> bool {
        self.train.is_empty()
    }
}

/// Reads tag `name` as a release; `None` when it holds no version (`latest`, `stable`).
///
/// ```
/// use shiplog_core::release::parse_tag;
/// let r = parse_tag("@acme/web@2.0.1").unwrap();
/// assert_eq!((r.train.as_str(), r.version.to_string().as_str()), ("@acme/web", "2.0.1"));
/// assert!(parse_tag("latest").is_none());
/// ```
pub fn parse_tag(name: &str) -> Option<Release> {
    let starts = std::iter::once(0).chain(
        name.char_indices()
            .filter(|&(_, c)| matches!(c, '@' | '-' | '/' | '_'))
            .map(|(i, c)| i + c.len_utf8()),
    );
    for start in starts {
        if let Some(version) = parse_version(&name[start..]) {
            let train = name[..start].trim_end_matches(['@', '-', '/', '_']);
            return Some(Release {
                train: train.to_owned(),
                version,
            });
        }
    }
    None
}

/// Reads `text` as a whole version: `v?N(.N)*(-PRE)?(+BUILD)?`, PRE starting with a letter.
fn parse_version(text: &str) -> Option<Version> {
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let text = text.split_once('+').map_or(text, |(v, _build)| v);
    let (core, pre) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        None => (text, None),
        Some(at) => {
            let rest = &text[at..];
            let pre = rest.strip_prefix(['-', '.'])?;
            let ok = pre.starts_with(|c: char| c.is_ascii_alphabetic())
                && pre
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !ok {
                return None;
            }
            (&text[..at], Some(pre.to_owned()))
        }
    };
    let numbers = core
        .split('.')
        .map(|part| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                part.parse::<u64>().ok()
            }
        })
        .collect::<Option<Vec<u64>>>()?;
    Some(Version { numbers, pre })
}

/// The suffix of `--deploys 'tags=GLOB,prereleases'` that counts pre-release tags.
pub const PRERELEASES: &str = ",prereleases";

/// Splits a `tags=` argument into its glob and whether pre-releases count.
pub fn tag_spec(spec: &str) -> (&str, bool) {
    match spec.strip_suffix(PRERELEASES) {
        Some(glob) => (glob, true),
        None => (spec, false),
    }
}

/// Keeps the tags of `tags` (named by `name`) that are releases: a tag with no version is left out
/// unless `glob` names it exactly, a pre-release unless `prereleases`. Returns notes saying what
/// was left out.
pub fn keep_releases<T>(
    tags: &mut Vec<T>,
    name: impl Fn(&T) -> &str,
    glob: &str,
    prereleases: bool,
) -> Vec<String> {
    let mut no_version: Vec<String> = Vec::new();
    let mut pre = 0usize;
    tags.retain(|t| {
        let n = name(t);
        match parse_tag(n) {
            None if n == glob => true,
            None => {
                no_version.push(n.to_owned());
                false
            }
            Some(r) if r.version.is_prerelease() && !prereleases => {
                pre += 1;
                false
            }
            Some(_) => true,
        }
    });
    let mut notes = Vec::new();
    if !no_version.is_empty() {
        let shown: Vec<&str> = no_version.iter().take(5).map(String::as_str).collect();
        notes.push(format!(
            "{} tag{} with no version left out (no release of any train): {}{} (name one exactly with --deploys 'tags=NAME' to count it)",
            no_version.len(),
            if no_version.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if no_version.len() > shown.len() { ", ..." } else { "" },
        ));
    }
    if pre > 0 {
        notes.push(format!(
            "{pre} pre-release tag{} (-rc, -beta, ...) left out (count them with --deploys 'tags={glob}{PRERELEASES}')",
            if pre == 1 { "" } else { "s" },
        ));
    }
    notes
}

/// Whether `service` is the service of a train other than the main one among the tags `names`
/// (`mapped`: `[tags] trains`).
pub fn names_other_train<'n>(
    names: impl Iterator<Item = &'n str>,
    mapped: &BTreeMap<String, ServiceName>,
    service: &ServiceName,
) -> bool {
    let mut checked = std::collections::BTreeSet::new();
    for n in names {
        if let Some(r) = parse_tag(n)
            && !r.is_main_train()
            && checked.insert(r.train.clone())
            && other_service(mapped, &r.train).is_ok_and(|s| &s == service)
        {
            return true;
        }
    }
    false
}

/// The service of a train other than the main one: mapped, else its name made valid.
fn other_service(
    mapped: &BTreeMap<String, ServiceName>,
    train: &str,
) -> Result<ServiceName, NameError> {
    match mapped.get(train) {
        Some(s) => Ok(s.clone()),
        None => ServiceName::made_valid(train),
    }
}

/// The service of each train: the main train's is the repository's, a mapped train's
/// (`[tags] trains` in shiplog.toml) the one mapped, any other train's its name made valid
/// ([`ServiceName::made_valid`]).
pub struct TrainServices<'a> {
    main: ServiceName,
    mapped: &'a BTreeMap<String, ServiceName>,
    /// Per train seen: its service and how many tags.
    seen: BTreeMap<String, (ServiceName, usize)>,
}

impl<'a> TrainServices<'a> {
    /// Services for a repository whose main train is `main`.
    pub fn new(main: ServiceName, mapped: &'a BTreeMap<String, ServiceName>) -> Self {
        Self {
            main,
            mapped,
            seen: BTreeMap::new(),
        }
    }

    /// The service of tag `name` (a tag with no version is of the main train).
    pub fn service_of(&mut self, name: &str) -> Result<ServiceName, NameError> {
        let train = parse_tag(name).map(|r| r.train).unwrap_or_default();
        if let Some((service, count)) = self.seen.get_mut(&train) {
            *count += 1;
            return Ok(service.clone());
        }
        let service = if train.is_empty() && !self.mapped.contains_key("") {
            self.main.clone()
        } else {
            other_service(self.mapped, &train)?
        };
        self.seen.insert(train, (service.clone(), 1));
        Ok(service)
    }

    /// A note listing the trains seen, when there is more than one.
    pub fn summary(&self) -> Option<String> {
        if self.seen.len() < 2 {
            return None;
        }
        let list: Vec<String> = self
            .seen
            .iter()
            .map(|(train, (service, count))| {
                let train = if train.is_empty() {
                    "(main)"
                } else {
                    train.as_str()
                };
                format!(
                    "{train} ({count} tag{}) as service {service}",
                    if *count == 1 { "" } else { "s" }
                )
            })
            .collect();
        Some(format!(
            "tags: {} release trains, each its own deployment chain: {} (map trains to services with [tags] trains in shiplog.toml)",
            self.seen.len(),
            list.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str) -> Option<(String, String)> {
        parse_tag(name).map(|r| (r.train, r.version.to_string()))
    }

    fn pair(train: &str, version: &str) -> Option<(String, String)> {
        Some((train.to_owned(), version.to_owned()))
    }

    #[test]
    fn common_conventions() {
        assert_eq!(read("v1.2.3"), pair("", "1.2.3"));
        assert_eq!(read("1.2.3"), pair("", "1.2.3"));
        assert_eq!(read("v2.35.2"), pair("", "2.35.2"));
        assert_eq!(read("1.5.0-rc1"), pair("", "1.5.0-rc1"));
        assert_eq!(read("v2.0.0-beta.2"), pair("", "2.0.0-beta.2"));
        assert_eq!(read("v1.0.0+build.7"), pair("", "1.0.0"));
        assert_eq!(read("pkg@1.2.3"), pair("pkg", "1.2.3"));
        assert_eq!(read("@scope/name@1.2.3"), pair("@scope/name", "1.2.3"));
        assert_eq!(read("name-v1.2.3"), pair("name", "1.2.3"));
        assert_eq!(read("name-1.2.3"), pair("name", "1.2.3"));
        assert_eq!(read("home-0.5.9"), pair("home", "0.5.9"));
        assert_eq!(
            read("path/to/module/v1.2.3"),
            pair("path/to/module", "1.2.3")
        );
        assert_eq!(read("my-tool-2-1.2.3"), pair("my-tool-2", "1.2.3"));
        assert_eq!(read("tool-1.2.0-rc.1"), pair("tool", "1.2.0-rc.1"));
    }

    #[test]
    fn tags_without_a_version_are_no_release() {
        for name in [
            "latest",
            "stable",
            "tmp-build",
            "v",
            "release-",
            "1..2",
            "v1.2.x",
            "rev1.2",
        ] {
            assert_eq!(read(name), None, "{name}");
        }
    }

    #[test]
    fn versions_order_as_releases_do() {
        let v = |s: &str| parse_tag(s).unwrap().version;
        assert!(v("v2.34.2") < v("v2.35.2"));
        assert!(v("v2.9.0") < v("v2.10.0"));
        assert!(v("1.5.0-rc1") < v("1.5.0"));
        assert!(v("1.5.0-rc2") < v("1.5.0-rc10"));
        assert!(v("1.5.0-alpha") < v("1.5.0-beta"));
        assert_eq!(v("1.2").cmp(&v("1.2.0")), Ordering::Equal);
        assert!(v("1.4.9") < v("1.5.0-rc1"));
    }
}
