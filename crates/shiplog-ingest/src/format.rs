//! Which of the two import formats a file is in.
//!
//! The command line picks the format from the file's extension (`.jsonl`, `.ndjson`, `.csv`) and,
//! when that says nothing, through `formats::detect`, whose plain-file case is [`Format::sniff`].

use std::fmt;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// An import file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON Lines: one JSON object per line.
    JsonLines,
    /// CSV with a header row naming the columns.
    Csv,
}

impl Format {
    /// Guesses the format from the content: JSON Lines when the first byte that is not whitespace (after
    /// an optional UTF-8 byte order mark) is `{`, CSV otherwise.
    pub fn sniff(bytes: &[u8]) -> Format {
        let first = strip_bom(bytes)
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .copied();
        if first == Some(b'{') {
            Format::JsonLines
        } else {
            Format::Csv
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::JsonLines => "JSON Lines",
            Format::Csv => "CSV",
        })
    }
}

/// The bytes without a leading UTF-8 byte order mark (spreadsheet programs like to write one).
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_sniffed_by_its_first_byte() {
        assert_eq!(Format::sniff(b"{\"type\":1}\n"), Format::JsonLines);
        assert_eq!(Format::sniff(b"\n \r\n\t{}"), Format::JsonLines);
        assert_eq!(Format::sniff(b"\xEF\xBB\xBF{}"), Format::JsonLines);
        assert_eq!(Format::sniff(b"type,id\n"), Format::Csv);
        assert_eq!(Format::sniff(b"\xEF\xBB\xBFtype,id\n"), Format::Csv);
        assert_eq!(Format::sniff(b"[{}]"), Format::Csv);
        assert_eq!(Format::sniff(b""), Format::Csv);
    }

    #[test]
    fn only_a_leading_bom_is_stripped() {
        assert_eq!(strip_bom(b"\xEF\xBB\xBFa"), b"a");
        assert_eq!(strip_bom(b"a\xEF\xBB\xBF"), b"a\xEF\xBB\xBF");
        assert_eq!(strip_bom(b"\xEF\xBB"), b"\xEF\xBB");
    }
}
