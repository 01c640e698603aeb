//! CSV with a header row: the header names the columns, using the JSON field names, `type` included.
//!
//! One header serves every record type, so a file mixing deployments and incidents has the columns of
//! both and leaves the ones a row's type does not have empty: empty cells (after trimming) mean
//! "absent". Rows whose cells are all empty are skipped, as spreadsheet programs tend to write some.
//! Cells are read as bytes and decoded one by one, so a cell that is not UTF-8 is reported with its
//! column.

use csv::{ByteRecord, Position, ReaderBuilder};

use crate::Sink;
use crate::error::Problem;
use crate::fields::{self, Cells, Value};
use crate::record::{self, TYPE_FIELD};

/// What a header cell makes of its column.
#[derive(Debug, Clone, Copy)]
enum Column {
    /// A known field.
    Field(&'static str),
    /// An empty header cell: its cells must be empty too.
    Unnamed,
    /// An unknown or repeated name, already reported at the header.
    Ignored,
}

pub(crate) fn parse(bytes: &[u8], sink: &mut Sink<'_>) {
    let mut lines = LineCounter::new(bytes);
    let mut rows = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .into_byte_records();
    let header = match rows.next() {
        None => return,
        Some(Ok(header)) => header,
        Some(Err(err)) => return invalid_csv(&err, &mut lines, sink),
    };
    let Some(columns) = read_header(&header, lines.line_of(header.position()), sink) else {
        return;
    };
    for row in rows {
        match row {
            Ok(row) => read_row(&columns, &row, lines.line_of(row.position()), sink),
            Err(err) => return invalid_csv(&err, &mut lines, sink),
        }
    }
}

fn invalid_csv(err: &csv::Error, lines: &mut LineCounter<'_>, sink: &mut Sink<'_>) {
    let line = lines.line_of(err.position());
    sink.error(line, None, &Problem::InvalidCsv(err.to_string()));
}

/// Physical line numbers of records.
///
/// The csv crate's own line numbers skip blank lines and count `\r\n` oddly, so lines are counted
/// here from the byte offset where each record starts. Line breaks are `\n`, `\r\n` or a lone `\r`,
/// as for the csv crate; breaks inside quoted cells count too, since they are physical lines.
struct LineCounter<'b> {
    bytes: &'b [u8],
    /// Where counting stopped, and the line number there (records come in increasing order).
    offset: usize,
    line: u64,
}

impl<'b> LineCounter<'b> {
    fn new(bytes: &'b [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the record at `position`: the csv crate may place a record's start on the line
    /// break (or blank lines) before it, so those are skipped first.
    fn line_of(&mut self, position: Option<&Position>) -> u64 {
        let Some(position) = position else {
            return self.line;
        };
        let mut start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
        start = start.min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.offset {
            // Not expected (records are read in order), but count afresh rather than go wrong.
            self.offset = 0;
            self.line = 1;
        }
        for i in self.offset..start {
            match self.bytes.get(i) {
                Some(b'\n') => self.line += 1,
                Some(b'\r') if self.bytes.get(i + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
        }
        self.offset = start;
        self.line
    }
}

/// Decodes one cell, trimmed.
fn cell_text(raw: &[u8], index: usize) -> Result<&str, Problem> {
    match std::str::from_utf8(raw) {
        Ok(text) => Ok(text.trim()),
        Err(err) => {
            let at = err.valid_up_to();
            Err(Problem::CellNotUtf8 {
                byte: raw.get(at).copied().unwrap_or_default(),
                offset: at + 1,
                column: index + 1,
            })
        }
    }
}

/// The role of each column, or `None` when rows cannot be read (no `type` column, bad bytes).
fn read_header(header: &ByteRecord, line: u64, sink: &mut Sink<'_>) -> Option<Vec<Column>> {
    let mut names = Vec::with_capacity(header.len());
    for (index, raw) in header.iter().enumerate() {
        match cell_text(raw, index) {
            Ok(name) => names.push(name),
            Err(problem) => {
                sink.error(line, None, &problem);
                return None;
            }
        }
    }
    if !names.contains(&TYPE_FIELD) {
        sink.error(
            line,
            None,
            &Problem::NoTypeColumn {
                found: fields::quote(&names.join(",")),
            },
        );
        return None;
    }
    let known = record::all_fields();
    let mut columns = Vec::with_capacity(names.len());
    for (index, &name) in names.iter().enumerate() {
        let column = if name.is_empty() {
            Column::Unnamed
        } else if let Some(first) = names[..index].iter().position(|n| *n == name) {
            sink.error(
                line,
                Some(name),
                &Problem::DuplicateColumn {
                    first: first + 1,
                    second: index + 1,
                },
            );
            Column::Ignored
        } else if let Some(field) = known.iter().find(|f| **f == name) {
            Column::Field(field)
        } else {
            sink.error(
                line,
                Some(name),
                &Problem::UnknownColumn {
                    hint: fields::did_you_mean(name, known.iter().copied()),
                    accepted: known.join(", "),
                },
            );
            Column::Ignored
        };
        columns.push(column);
    }
    Some(columns)
}

fn read_row(columns: &[Column], row: &ByteRecord, line: u64, sink: &mut Sink<'_>) {
    if row.iter().all(|cell| cell.trim_ascii().is_empty()) {
        return;
    }
    if row.len() != columns.len() {
        sink.error(
            line,
            None,
            &Problem::ColumnCount {
                expected: columns.len(),
                found: row.len(),
            },
        );
        return;
    }
    let mut cells: Cells<'_> = Vec::new();
    // Fields already reported as unreadable: the record type would only add "missing" for them.
    let mut unreadable: Vec<&str> = Vec::new();
    for (index, (column, raw)) in columns.iter().zip(row.iter()).enumerate() {
        let field = match column {
            Column::Field(field) => Some(*field),
            Column::Unnamed | Column::Ignored => None,
        };
        let text = match cell_text(raw, index) {
            Ok(text) => text,
            Err(problem) => {
                sink.error(line, field, &problem);
                unreadable.extend(field);
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        match column {
            Column::Field(field) => cells.push((field, Value::Text(text))),
            Column::Unnamed => sink.error(
                line,
                None,
                &Problem::UnnamedColumn {
                    column: index + 1,
                    found: fields::quote(text),
                },
            ),
            Column::Ignored => {}
        }
    }
    if unreadable.is_empty() {
        sink.build(line, cells);
    } else if let Err(problems) = record::build(cells) {
        for p in problems {
            if !p.field.as_deref().is_some_and(|f| unreadable.contains(&f)) {
                sink.error(line, p.field.as_deref(), &p.problem);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first cell and line of each record.
    fn lines(data: &[u8]) -> Vec<(String, u64)> {
        let mut counter = LineCounter::new(data);
        ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data)
            .into_byte_records()
            .map(|row| {
                let row = row.expect("test data is valid CSV");
                let first = String::from_utf8_lossy(row.get(0).unwrap_or_default()).into_owned();
                (first, counter.line_of(row.position()))
            })
            .collect()
    }

    fn expect(data: &[u8], want: &[(&str, u64)]) {
        let want: Vec<(String, u64)> = want.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect();
        assert_eq!(lines(data), want, "{:?}", String::from_utf8_lossy(data));
    }

    #[test]
    fn records_are_numbered_by_physical_line() {
        expect(b"h\na\nb", &[("h", 1), ("a", 2), ("b", 3)]);
        expect(b"h\na\n\n\nb\n", &[("h", 1), ("a", 2), ("b", 5)]);
        expect(b"h\r\na\r\n\r\nb\r\n", &[("h", 1), ("a", 2), ("b", 4)]);
        expect(b"h\ra\r\rb\r", &[("h", 1), ("a", 2), ("b", 4)]);
        expect(b"\n\nh\na\n", &[("h", 3), ("a", 4)]);
        expect(b"h\n\"a\nx\"\nb\n", &[("h", 1), ("a\nx", 2), ("b", 4)]);
        expect(
            b"h\r\n\"a\r\nx\r\ny\"\r\nb\r\n",
            &[("h", 1), ("a\r\nx\r\ny", 2), ("b", 5)],
        );
        expect(b"h\n,x\n", &[("h", 1), ("", 2)]);
    }
}
