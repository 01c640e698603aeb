//! Saved HTTP requests (`.http` files): a webhook delivery or a CloudEvents binary-mode event kept
//! with its headers, so it can be imported exactly as a receiver would see it.
//!
//! httparse reads the request line and headers; the body is everything after the blank line. A
//! `Content-Length` shorter than the rest of the file cuts the body there (a trailing newline an
//! editor added is not part of the request).

use super::Headers;

const MAX_HEADERS: usize = 128;

/// The headers and body of a raw HTTP request, or what is wrong with it.
pub(crate) fn parse_request(bytes: &[u8]) -> Result<(Headers, Vec<u8>), String> {
    let bytes = crate::format::strip_bom(bytes);
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    let body_start = match request.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err(format!(
                "line {}: expected an HTTP request: a request line, headers and a blank line before the body, got no blank line after the headers",
                bytes.split(|&b| b == b'\n').count()
            ));
        }
        Err(e) => {
            return Err(format!(
                "line {}: expected an HTTP request (e.g. \"POST /hook HTTP/1.1\", then headers, a blank line and the body), got an invalid request: {e}",
                bad_line(bytes)
            ));
        }
    };
    let mut headers = Vec::with_capacity(request.headers.len());
    // Header `i` is on line `i + 2`: httparse takes one line per header (no folded lines).
    let mut content_length_line = 0;
    for (i, h) in request.headers.iter().enumerate() {
        let value = std::str::from_utf8(h.value).map_err(|_| {
            format!(
                "line {}: expected UTF-8 text in the header {:?}",
                i + 2,
                h.name
            )
        })?;
        if h.name.eq_ignore_ascii_case("content-length") {
            content_length_line = i + 2;
        }
        headers.push((h.name.to_owned(), value.trim().to_owned()));
    }
    let headers = Headers(headers);
    let mut body = &bytes[body_start..];
    if let Some(length) = headers.get("content-length") {
        let length: usize = length.parse().map_err(|_| {
            format!(
                "line {content_length_line}: expected a number in the Content-Length header, got {length:?}"
            )
        })?;
        if length < body.len() {
            body = &body[..length];
        }
    }
    Ok((headers, body.to_vec()))
}

/// The 1-based line httparse refused: the request line when it is not `METHOD TARGET HTTP/x.y`,
/// else the first header line that is not `Name: value` (httparse does not say where).
fn bad_line(bytes: &[u8]) -> usize {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let request = lines.next().unwrap_or_default();
    let parts: Vec<&[u8]> = request.split(|&b| b == b' ').collect();
    if parts.len() != 3 || !parts[2].starts_with(b"HTTP/") || parts.iter().any(|p| p.is_empty()) {
        return 1;
    }
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            break;
        }
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
        if name.len() == line.len() || name.is_empty() || !name.iter().all(token) {
            return i + 2;
        }
        if std::str::from_utf8(line).is_err() || line.iter().any(|&b| b < 0x20 && b != b'\t') {
            return i + 2;
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_body_are_split_with_either_line_ending() {
        for text in [
            "POST /hook HTTP/1.1\r\nX-GitHub-Event: push\r\n\r\n{\"a\":1}\n",
            "POST /hook HTTP/1.1\nX-GitHub-Event: push\n\n{\"a\":1}\n",
        ] {
            let (headers, body) = parse_request(text.as_bytes()).unwrap();
            assert_eq!(headers.get("x-github-event"), Some("push"));
            assert_eq!(body, b"{\"a\":1}\n");
        }
    }

    #[test]
    fn content_length_cuts_the_body() {
        let text = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}\n\n";
        assert_eq!(parse_request(text.as_bytes()).unwrap().1, b"{}");
    }

    #[test]
    fn a_request_without_a_blank_line_is_refused() {
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap_err(),
            "line 3: expected an HTTP request: a request line, headers and a blank line before the body, got no blank line after the headers"
        );
        assert!(
            parse_request(b"{\"not\":\"http\"}")
                .unwrap_err()
                .starts_with("line 1: expected an HTTP request (e.g. \"POST /hook HTTP/1.1\"")
        );
        let bad_header =
            parse_request(b"POST / HTTP/1.1\r\nHost: x\r\nX Bad Header\r\n\r\n{}").unwrap_err();
        assert!(bad_header.starts_with("line 3: "), "{bad_header}");
    }

    #[test]
    fn header_errors_name_their_line() {
        let not_utf8 =
            parse_request(b"POST / HTTP/1.1\nHost: x\nce-subject: i\xffx\n\n{}").unwrap_err();
        assert_eq!(
            not_utf8,
            "line 3: expected UTF-8 text in the header \"ce-subject\""
        );
        let length = parse_request(b"POST / HTTP/1.1\nContent-Length: two\n\n{}").unwrap_err();
        assert!(length.starts_with("line 2: expected a number"), "{length}");
    }
}
