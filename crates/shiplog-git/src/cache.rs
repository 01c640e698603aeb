//! The on-store encoding of cached commit history.
//!
//! Reading author times means inflating every commit object, which is most of the cost of reading
//! history. shiplog does it once: each history read appends one *segment* holding the commits it found,
//! and later runs decode segments instead of the repository. A segment is a few flat little-endian
//! arrays (ids, author and committer times, parent lists as indices, a sha-sorted lookup order,
//! reverts, shallow markers): about 60 bytes a commit, decoded at memory speed. Storing one database
//! row per commit would cost more than reading git itself.
//!
//! Layout (all integers little-endian; `pad` is zero bytes up to the next multiple of 8 from the
//! segment's start, so that every column is aligned for its values):
//! ```text
//! magic "SHIPLOGH" | version u32 | base u32 | n u32 | 0u32
//! n × 20-byte sha | pad | n × i64 author time | n × i64 committer time
//! (n + 1) × u32 parent-list offsets | pad | m × u32 parent indices (global) | pad
//! n × u32 sorted lookup order (global indices) | pad | n × u32 first 4 bytes of those shas
//! (big-endian) | pad
//! r u32 | r × (u32 commit, 20-byte reverted sha or abbreviation, u8 its hex length 7–40)
//! s u32 | s × u32 shallow commit
//! t u32 | t × (20-byte tag object id, 20-byte commit sha, i64 tagger time or i64::MIN)
//! f u32 | f bytes: path-configuration fingerprint | k u32 (0 or n) | k × u64 service masks
//! crc32 of everything above, u32
//! ```
//!
//! The columns are aligned because a segment is memory-mapped and its columns are read in place
//! ([`shiplog_core::graph`]'s head): a warm run then copies nothing of a history it already has.
//!
//! The tag section caches annotated tags: a tag object never changes, so its target commit and
//! tagger time are read once instead of inflating thousands of tag objects on every run. The path
//! section caches the monorepo classification of the segment's commits ([`crate::paths`]): one
//! service mask per commit, valid only for the path configuration whose fingerprint it carries
//! (empty when the configuration had no path globs when the segment was written).

use bytes::Bytes;
use shiplog_core::{ColumnBytes, CommitGraph, CommitIdx, Sha, ShaAbbrev};

use crate::CachedTag;

const MAGIC: &[u8; 8] = b"SHIPLOGH";
const VERSION: u32 = 5;

/// Why a cached segment cannot be used. The cure is always the same: rebuild the cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The bytes are not a segment of this version.
    #[error("history cache segment {seq}: {problem}")]
    Malformed {
        /// The segment's position.
        seq: i64,
        /// What is wrong.
        problem: String,
    },
    /// The segment does not continue the graph where the previous one ended.
    #[error("history cache segment {seq} starts at commit {base}, expected {expected}")]
    OutOfOrder {
        /// The segment's position.
        seq: i64,
        /// Where it starts.
        base: u32,
        /// Where it should start.
        expected: usize,
    },
    /// The commits in the segment do not form a valid graph.
    #[error("history cache segment {seq}: {source}")]
    Graph {
        /// The segment's position.
        seq: i64,
        /// The graph's complaint.
        #[source]
        source: shiplog_core::graph::GraphError,
    },
}

/// Encodes commits `range` of `graph`, and `tags`, as one segment. `sorted` is the commits' lookup
/// order (indices sorted by sha); pass the graph's own run when the range is exactly one run.
pub fn encode(
    graph: &CommitGraph,
    range: std::ops::Range<usize>,
    sorted: &[CommitIdx],
    tags: &[CachedTag],
) -> Vec<u8> {
    encode_with_paths(graph, range, sorted, tags, None)
}

/// The service masks of a segment's commits and the fingerprint of the path configuration that
/// produced them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMasks {
    /// [`crate::paths::ServicePaths::fingerprint`] of the configuration.
    pub fingerprint: Vec<u8>,
    /// One mask per commit of the segment, in index order.
    pub masks: Vec<u64>,
}

/// What a segment holds besides its commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The annotated tags cached with it.
    pub tags: Vec<CachedTag>,
    /// The commits' service masks, when they were classified.
    pub paths: Option<PathMasks>,
}

/// Like [`encode`], with the service masks of the commits of `range` (`paths.1.len()` must be
/// `range.len()`; otherwise none are written).
pub fn encode_with_paths(
    graph: &CommitGraph,
    range: std::ops::Range<usize>,
    sorted: &[CommitIdx],
    tags: &[CachedTag],
    paths: Option<(&[u8], &[u64])>,
) -> Vec<u8> {
    let paths = paths.filter(|(_, masks)| masks.len() == range.len());
    let n = range.len();
    let parents: usize = range.clone().map(|i| graph.parents(i as u32).len()).sum();
    let reverts: Vec<(CommitIdx, ShaAbbrev)> = graph
        .all_reverts()
        .iter()
        .filter(|(c, _)| range.contains(&(*c as usize)))
        .copied()
        .collect();
    let shallow: Vec<CommitIdx> = graph
        .shallow_commits()
        .iter()
        .filter(|c| range.contains(&(**c as usize)))
        .copied()
        .collect();
    let mut out = Vec::with_capacity(
        24 + n * 68 + parents * 4 + 40 + reverts.len() * 25 + shallow.len() * 4 + tags.len() * 48,
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(range.start as u32).to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for i in range.clone() {
        out.extend_from_slice(graph.sha(i as u32).as_bytes());
    }
    pad(&mut out);
    for i in range.clone() {
        out.extend_from_slice(&graph.author_time(i as u32).to_le_bytes());
    }
    for i in range.clone() {
        out.extend_from_slice(&graph.committer_time(i as u32).to_le_bytes());
    }
    let mut offset = 0u32;
    out.extend_from_slice(&offset.to_le_bytes());
    for i in range.clone() {
        offset += graph.parents(i as u32).len() as u32;
        out.extend_from_slice(&offset.to_le_bytes());
    }
    pad(&mut out);
    for i in range.clone() {
        for p in graph.parents(i as u32) {
            out.extend_from_slice(&p.to_le_bytes());
        }
    }
    pad(&mut out);
    for i in sorted {
        out.extend_from_slice(&i.to_le_bytes());
    }
    pad(&mut out);
    for &i in sorted {
        out.extend_from_slice(&graph.sha(i).prefix32().to_le_bytes());
    }
    pad(&mut out);
    out.extend_from_slice(&(reverts.len() as u32).to_le_bytes());
    for (c, abbrev) in &reverts {
        out.extend_from_slice(&c.to_le_bytes());
        out.extend_from_slice(abbrev.bytes());
        out.push(abbrev.hex_len() as u8);
    }
    out.extend_from_slice(&(shallow.len() as u32).to_le_bytes());
    for c in &shallow {
        out.extend_from_slice(&c.to_le_bytes());
    }
    out.extend_from_slice(&(tags.len() as u32).to_le_bytes());
    for tag in tags {
        out.extend_from_slice(tag.tag.as_bytes());
        out.extend_from_slice(tag.commit.as_bytes());
        out.extend_from_slice(&tag.tagger_time.unwrap_or(i64::MIN).to_le_bytes());
    }
    let (fingerprint, masks) = paths.unwrap_or((&[], &[]));
    out.extend_from_slice(&(fingerprint.len() as u32).to_le_bytes());
    out.extend_from_slice(fingerprint);
    out.extend_from_slice(&(masks.len() as u32).to_le_bytes());
    for mask in masks {
        out.extend_from_slice(&mask.to_le_bytes());
    }
    let checksum = crc32fast::hash(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// The CRC-32 of `body`. A large segment's halves are summed on two threads and combined: the
/// checksum reads every byte of a history that is otherwise read in place, and is the largest
/// part of loading it.
fn checksum_of(body: &[u8]) -> u32 {
    const SPLIT_FROM: usize = 4 << 20;
    if body.len() < SPLIT_FROM {
        return crc32fast::hash(body);
    }
    let (first, second) = body.split_at(body.len() / 2);
    std::thread::scope(|scope| {
        let later = scope.spawn(|| {
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(second);
            hasher
        });
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(first);
        match later.join() {
            Ok(rest) => {
                hasher.combine(&rest);
                hasher.finalize()
            }
            // The thread cannot panic; were it lost, sum the second half here.
            Err(_) => {
                hasher.update(second);
                hasher.finalize()
            }
        }
    })
}

/// Zero bytes up to the next multiple of 8.
fn pad(out: &mut Vec<u8>) {
    out.resize(out.len().next_multiple_of(8), 0);
}

struct Reader<'a> {
    data: &'a [u8],
    /// Bytes read so far.
    at: usize,
    seq: i64,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], CacheError> {
        if self.data.len() < len {
            return Err(CacheError::Malformed {
                seq: self.seq,
                problem: format!("truncated while reading {what}"),
            });
        }
        let (head, rest) = self.data.split_at(len);
        self.data = rest;
        self.at += len;
        Ok(head)
    }

    /// Skips the zero padding up to the next multiple of 8.
    fn pad(&mut self, what: &str) -> Result<(), CacheError> {
        let len = self.at.next_multiple_of(8) - self.at;
        if self.take(len, what)?.iter().any(|&b| b != 0) {
            return Err(CacheError::Malformed {
                seq: self.seq,
                problem: format!("non-zero padding after {what}"),
            });
        }
        Ok(())
    }

    /// Like [`Reader::array`], returning the position of the bytes instead.
    fn column(
        &mut self,
        count: usize,
        width: usize,
        what: &str,
    ) -> Result<std::ops::Range<usize>, CacheError> {
        let start = self.at;
        self.array(count, width, what)?;
        Ok(start..self.at)
    }

    fn u32(&mut self, what: &str) -> Result<u32, CacheError> {
        let bytes = self.take(4, what)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn array(&mut self, count: usize, width: usize, what: &str) -> Result<&'a [u8], CacheError> {
        let len = count
            .checked_mul(width)
            .ok_or_else(|| CacheError::Malformed {
                seq: self.seq,
                problem: format!("{what}: count {count} overflows"),
            })?;
        self.take(len, what)
    }
}

fn u32_at(bytes: &[u8], i: usize) -> u32 {
    let b = &bytes[i * 4..i * 4 + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn i64_at(bytes: &[u8], i: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
    i64::from_le_bytes(b)
}

fn sha_at(bytes: &[u8], i: usize) -> Sha {
    let mut b = [0u8; 20];
    b.copy_from_slice(&bytes[i * 20..i * 20 + 20]);
    Sha::from_bytes(b)
}

/// Appends the commits of segment `seq` to `graph`, which must hold exactly the commits of the
/// segments before it, and returns the segment's cached tags.
pub fn decode_into(
    graph: &mut CommitGraph,
    seq: i64,
    data: &[u8],
) -> Result<Vec<CachedTag>, CacheError> {
    decode_segment(graph, seq, &Bytes::copy_from_slice(data)).map(|d| d.tags)
}

/// Like [`decode_into`], returning the service masks as well. The commit columns of the first
/// segment of an empty graph stay in `data` (a memory-mapped file is read in place, not copied);
/// `graph` keeps a reference to it.
pub fn decode_segment(
    graph: &mut CommitGraph,
    seq: i64,
    data: &Bytes,
) -> Result<Decoded, CacheError> {
    let Some((body, checksum)) = data.split_last_chunk::<4>() else {
        return Err(CacheError::Malformed {
            seq,
            problem: "truncated".to_owned(),
        });
    };
    let mut r = Reader {
        data: body,
        at: 0,
        seq,
    };
    if r.take(8, "magic")? != MAGIC {
        return Err(CacheError::Malformed {
            seq,
            problem: "not a shiplog history segment".to_owned(),
        });
    }
    let version = r.u32("version")?;
    if version != VERSION {
        return Err(CacheError::Malformed {
            seq,
            problem: format!("version {version}, this shiplog reads version {VERSION}"),
        });
    }
    if checksum_of(body) != u32::from_le_bytes(*checksum) {
        return Err(CacheError::Malformed {
            seq,
            problem: "checksum mismatch (the stored cache is damaged)".to_owned(),
        });
    }
    let base = r.u32("base")?;
    if base as usize != graph.len() {
        return Err(CacheError::OutOfOrder {
            seq,
            base,
            expected: graph.len(),
        });
    }
    let n = r.u32("count")? as usize;
    r.pad("count")?;
    let shas = r.column(n, 20, "shas")?;
    r.pad("shas")?;
    let authors = r.column(n, 8, "author times")?;
    let committers = r.column(n, 8, "committer times")?;
    let offsets = r.column(n + 1, 4, "parent offsets")?;
    let total_parents = u32_at(&body[offsets.clone()], n) as usize;
    r.pad("parent offsets")?;
    let parents = r.column(total_parents, 4, "parents")?;
    r.pad("parents")?;
    let sorted = r.column(n, 4, "lookup order")?;
    r.pad("lookup order")?;
    let prefixes = r.column(n, 4, "lookup prefixes")?;
    r.pad("lookup prefixes")?;
    let revert_count = r.u32("revert count")? as usize;
    let reverts = r.array(revert_count, 25, "reverts")?;
    let reverts = reverts
        .chunks_exact(25)
        .map(|entry| {
            let mut bytes = [0u8; 20];
            bytes.copy_from_slice(&entry[4..24]);
            ShaAbbrev::from_parts(bytes, entry[24])
                .map(|abbrev| (u32_at(entry, 0), abbrev))
                .ok_or_else(|| CacheError::Malformed {
                    seq,
                    problem: "a reverted commit reference is malformed".to_owned(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let shallow_count = r.u32("shallow count")? as usize;
    let shallow = r.array(shallow_count, 4, "shallow commits")?;
    let tag_count = r.u32("tag count")? as usize;
    let tags = r.array(tag_count, 48, "tags")?;
    let fingerprint_len = r.u32("path fingerprint length")? as usize;
    let fingerprint = r.take(fingerprint_len, "path fingerprint")?;
    let mask_count = r.u32("mask count")? as usize;
    if mask_count != 0 && mask_count != n {
        return Err(CacheError::Malformed {
            seq,
            problem: format!("{mask_count} service masks for {n} commits"),
        });
    }
    let masks = r.array(mask_count, 8, "service masks")?;
    if !r.data.is_empty() {
        return Err(CacheError::Malformed {
            seq,
            problem: format!("{} unexpected trailing bytes", r.data.len()),
        });
    }

    let run = ColumnBytes {
        shas: data.slice(shas),
        author_time: data.slice(authors),
        committer_time: data.slice(committers),
        parent_offsets: data.slice(offsets),
        parents: data.slice(parents),
        reverts,
        shallow: shallow
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        sorted: data.slice(sorted),
        sorted_prefix: data.slice(prefixes),
    };
    graph
        .append_run_bytes(run)
        .map_err(|source| CacheError::Graph { seq, source })?;
    let tags = tags
        .chunks_exact(48)
        .map(|entry| {
            let time = i64_at(&entry[40..], 0);
            CachedTag {
                tag: sha_at(entry, 0),
                commit: sha_at(&entry[20..], 0),
                tagger_time: (time != i64::MIN).then_some(time),
            }
        })
        .collect();
    let paths = (!fingerprint.is_empty() && mask_count == n).then(|| PathMasks {
        fingerprint: fingerprint.to_vec(),
        masks: (0..mask_count).map(|i| i64_at(masks, i) as u64).collect(),
    });
    Ok(Decoded { tags, paths })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shiplog_core::NewCommit;

    fn sha(n: u8) -> Sha {
        Sha::from_bytes([n; 20])
    }

    fn sample() -> CommitGraph {
        let mut g = CommitGraph::new();
        g.push(NewCommit {
            sha: sha(9),
            parents: &[],
            author_time: -5,
            committer_time: 10,
            reverts: &[],
            shallow: true,
        })
        .unwrap();
        g.push(NewCommit {
            sha: sha(3),
            parents: &[0],
            author_time: 20,
            committer_time: 21,
            reverts: &[
                sha(9).into(),
                ShaAbbrev::from_hex("0707070").unwrap(),
                sha(7).into(),
            ],
            shallow: false,
        })
        .unwrap();
        g.close_run();
        g.push(NewCommit {
            sha: sha(5),
            parents: &[1, 0],
            author_time: i64::MAX,
            committer_time: 30,
            reverts: &[],
            shallow: false,
        })
        .unwrap();
        g.close_run();
        g
    }

    #[test]
    fn segments_round_trip() {
        let g = sample();
        let tag = CachedTag {
            tag: sha(1),
            commit: sha(5),
            tagger_time: Some(-7),
        };
        let lightweight = CachedTag {
            tag: sha(2),
            commit: sha(3),
            tagger_time: None,
        };
        let first = encode(&g, 0..2, g.sorted_run(0).unwrap(), &[]);
        let second = encode(&g, 2..3, g.sorted_run(1).unwrap(), &[tag, lightweight]);
        let empty = encode(&g, 3..3, &[], &[]);
        let mut back = CommitGraph::new();
        assert!(decode_into(&mut back, 0, &first).unwrap().is_empty());
        assert_eq!(
            decode_into(&mut back, 1, &second).unwrap(),
            [tag, lightweight]
        );
        assert!(decode_into(&mut back, 2, &empty).unwrap().is_empty());
        assert!(back.shas().eq(g.shas()));
        for i in 0..3 {
            assert_eq!(back.parents(i), g.parents(i));
            assert_eq!(back.author_time(i), g.author_time(i));
            assert_eq!(back.committer_time(i), g.committer_time(i));
            assert_eq!(back.is_shallow(i), g.is_shallow(i));
        }
        assert_eq!(back.all_reverts(), g.all_reverts());
        assert_eq!(back.find(&sha(5)), Some(2));
    }

    #[test]
    fn service_masks_round_trip_with_their_fingerprint() {
        let g = sample();
        let first = encode_with_paths(
            &g,
            0..2,
            g.sorted_run(0).unwrap(),
            &[],
            Some((b"paths-v1 api", &[0b01, u64::MAX])),
        );
        let second = encode(&g, 2..3, g.sorted_run(1).unwrap(), &[]);
        let mut back = CommitGraph::new();
        let d0 = decode_segment(&mut back, 0, &Bytes::from(first)).unwrap();
        let d1 = decode_segment(&mut back, 1, &Bytes::from(second)).unwrap();
        assert_eq!(
            d0.paths,
            Some(PathMasks {
                fingerprint: b"paths-v1 api".to_vec(),
                masks: vec![0b01, u64::MAX]
            })
        );
        assert_eq!(d1.paths, None, "written without a path configuration");
        // Masks that do not cover the segment are not written.
        let wrong = encode_with_paths(&g, 0..2, g.sorted_run(0).unwrap(), &[], Some((b"x", &[1])));
        assert_eq!(
            decode_segment(&mut CommitGraph::new(), 0, &Bytes::from(wrong))
                .unwrap()
                .paths,
            None
        );
    }

    #[test]
    fn damaged_segments_are_rejected_not_trusted() {
        let g = sample();
        let first = encode(&g, 0..2, g.sorted_run(0).unwrap(), &[]);
        let second = encode(&g, 2..3, g.sorted_run(1).unwrap(), &[]);
        let mut empty = CommitGraph::new();
        assert!(matches!(
            decode_into(&mut empty, 1, &second),
            Err(CacheError::OutOfOrder {
                base: 2,
                expected: 0,
                ..
            })
        ));
        for cut in [0, 7, 12, first.len() - 1] {
            let mut g2 = CommitGraph::new();
            assert!(
                decode_into(&mut g2, 0, &first[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad_version = first.clone();
        bad_version[8] = 9;
        let err = decode_into(&mut CommitGraph::new(), 0, &bad_version).unwrap_err();
        assert_eq!(
            err.to_string(),
            "history cache segment 0: version 9, this shiplog reads version 5"
        );
        let mut flipped = first.clone();
        flipped[30] ^= 1;
        let err = decode_into(&mut CommitGraph::new(), 0, &flipped).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        let mut trailing = first;
        trailing.push(0);
        assert!(decode_into(&mut CommitGraph::new(), 0, &trailing).is_err());
    }

    #[test]
    fn the_first_segment_is_read_in_place_when_aligned() {
        let g = sample();
        let first = encode(&g, 0..2, g.sorted_run(0).unwrap(), &[]);
        let second = encode(&g, 2..3, g.sorted_run(1).unwrap(), &[]);
        let check = |back: &CommitGraph| {
            assert!(back.shas().eq(g.shas()));
            for i in 0..3 {
                assert_eq!(back.parents(i), g.parents(i));
                assert_eq!(back.author_time(i), g.author_time(i));
                assert_eq!(back.committer_time(i), g.committer_time(i));
                assert_eq!(back.find(&g.sha(i)), Some(i));
            }
            assert_eq!(back.sorted_run(0), g.sorted_run(0));
            assert_eq!(back.sorted_run(1), g.sorted_run(1));
            assert_eq!(back.all_reverts(), g.all_reverts());
            assert_eq!(back.shallow_commits(), g.shallow_commits());
        };
        let mut aligned = CommitGraph::new();
        decode_segment(&mut aligned, 0, &Bytes::from(first.clone())).unwrap();
        decode_segment(&mut aligned, 1, &Bytes::from(second.clone())).unwrap();
        if cfg!(target_endian = "little") {
            assert_eq!(
                aligned.len_in_place(),
                2,
                "the first segment stays in its bytes"
            );
        }
        check(&aligned);
        // One byte off: decoded into owned columns instead, with the same result.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&first);
        let shifted = Bytes::from(shifted).slice(1..);
        let mut decoded = CommitGraph::new();
        decode_segment(&mut decoded, 0, &shifted).unwrap();
        decode_segment(&mut decoded, 1, &Bytes::from(second)).unwrap();
        assert_eq!(decoded.len_in_place(), 0);
        check(&decoded);
    }

    #[test]
    fn damaged_padding_is_rejected() {
        let g = sample();
        let mut first = encode(&g, 0..2, g.sorted_run(0).unwrap(), &[]);
        // n = 2 shas end at 24 + 40 = 64 (aligned); author times at 64.. ; offsets (3 × 4) end
        // at 64 + 32 + 12 = 108: 4 bytes of padding follow.
        first[108] = 1;
        let body = first.len() - 4;
        let checksum = crc32fast::hash(&first[..body]);
        first[body..].copy_from_slice(&checksum.to_le_bytes());
        let err = decode_into(&mut CommitGraph::new(), 0, &first).unwrap_err();
        assert!(err.to_string().contains("non-zero padding"), "{err}");
    }

    #[test]
    fn split_checksums_equal_whole_ones() {
        let body: Vec<u8> = (0..(9u32 << 20) + 13)
            .map(|i| (i * 7 + i / 251) as u8)
            .collect();
        assert_eq!(checksum_of(&body), crc32fast::hash(&body));
        assert_eq!(checksum_of(&body[..1000]), crc32fast::hash(&body[..1000]));
    }
}
