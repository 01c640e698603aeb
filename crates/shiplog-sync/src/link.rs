//! The `Link` header (RFC 8288) as GitHub sends it for pagination:
//! `<https://api.github.com/repositories/1/pulls?page=2>; rel="next", <...?page=5>; rel="last"`.
//!
//! Hand-written because it is a dozen lines: the crates that parse it pull in a regex engine. URLs
//! cannot contain `<` or `>`, so they delimit each link even when a query holds commas.

/// The links of one response that pagination uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Links {
    /// `rel="next"`: the following page.
    pub next: Option<String>,
    /// `rel="last"`: the last page, which tells how many pages there are.
    pub last: Option<String>,
}

/// Reads the `next` and `last` links of a `Link` header; anything unreadable is left out.
pub(crate) fn parse(header: &str) -> Links {
    let mut links = Links::default();
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        let target = after[..close].trim();
        let params_and_more = &after[close + 1..];
        let end = params_and_more.find('<').unwrap_or(params_and_more.len());
        for param in params_and_more[..end].split(';') {
            let param = param.trim().trim_end_matches(',').trim();
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if !name.trim().eq_ignore_ascii_case("rel") {
                continue;
            }
            for rel in value.trim().trim_matches('"').split_ascii_whitespace() {
                let slot = match rel.to_ascii_lowercase().as_str() {
                    "next" => &mut links.next,
                    "last" => &mut links.last,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = Some(target.to_owned());
                }
            }
        }
        rest = &params_and_more[end..];
    }
    links
}

/// The `page` query parameter of a URL (GitHub numbers pages from 1).
pub(crate) fn page_number(target: &str) -> Option<u64> {
    let url = url::Url::parse(target).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_githubs_pagination_links() {
        let header = r#"<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first""#;
        let links = parse(header);
        assert_eq!(
            links.next.as_deref(),
            Some("https://api.github.com/repositories/1300192/issues?page=4")
        );
        assert_eq!(links.last.as_deref().and_then(page_number), Some(515));
    }

    #[test]
    fn commas_inside_urls_and_odd_spacing_do_not_split_links() {
        let header = "<https://h/x?labels=sev1,incident&page=2>;rel=next ,\n <https://h/x?labels=sev1,incident&page=3> ; rel=\"last\"";
        let links = parse(header);
        assert_eq!(
            links.next.as_deref(),
            Some("https://h/x?labels=sev1,incident&page=2")
        );
        assert_eq!(links.last.as_deref().and_then(page_number), Some(3));
    }

    #[test]
    fn the_last_page_has_no_next_and_garbage_yields_nothing() {
        let last = parse(r#"<https://h/x?page=1>; rel="first", <https://h/x?page=2>; rel="prev""#);
        assert_eq!(last, Links::default());
        assert_eq!(parse("garbage"), Links::default());
        assert_eq!(parse("<unterminated; rel=next"), Links::default());
        assert_eq!(page_number("https://h/x?per_page=100"), None);
    }
}
