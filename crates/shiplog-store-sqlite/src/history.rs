//! Cached commit history: the bytes live in files beside the database, the index in SQLite.
//!
//! A history segment is one large blob (about 50 bytes a commit: 50 MB for a million commits) that
//! is read whole on every run. SQLite stores such a blob as a chain of overflow pages, and reading it
//! back through the driver copies it three times; a plain file is read in one system call. So each
//! segment is a file under `<database>.history/<repository hash>/`, written under a temporary name
//! and renamed into place (a reader never sees half a file), and the `history_segments` table maps
//! (repository, seq) to the file. The table is the source of truth: files it does not name are
//! leftovers and are removed when a repository's history is replaced. The segment format carries
//! its own checksum, so a damaged file is detected by the reader and the cache rebuilt.
//!
//! History commits run with `synchronous = NORMAL` (no fsync per commit; WAL keeps the database
//! consistent): the cache can always be rebuilt from git, and an fsync costs more than the rest of a
//! warm run. Deployments and incidents keep the default, fully synchronous commits.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use shiplog_store::{HistorySegment, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Sqlite, SqliteConnection};

use crate::{SqliteStore, corrupt, query_error, seq_error};

const TABLE: &str = "history_segments";

/// A history file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
struct FileError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

fn file_error(operation: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Query {
        operation,
        source: Box::new(FileError {
            path: path.to_owned(),
            source,
        }),
    }
}

/// FNV-1a, 64 bits: a stable directory name for a repository key (a path).
fn repository_dir_name(repository: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in repository.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

impl SqliteStore {
    /// The directory holding all history files of this database.
    fn history_root(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".history");
        PathBuf::from(name)
    }

    /// The directory of one repository's history files.
    fn history_dir(&self, repository: &str) -> PathBuf {
        self.history_root().join(repository_dir_name(repository))
    }

    /// Writes a segment's bytes to a new file and returns its name (relative to the repository's
    /// directory).
    fn write_segment_file(
        &self,
        repository: &str,
        segment: &HistorySegment,
        operation: &'static str,
    ) -> Result<String, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = self.history_dir(repository);
        std::fs::create_dir_all(&dir).map_err(|e| file_error(operation, &dir, e))?;
        let unique = format!(
            "{}-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let name = format!("{}-{unique}.seg", segment.seq);
        let temporary = dir.join(format!("{name}.tmp"));
        std::fs::write(&temporary, &segment.data)
            .map_err(|e| file_error(operation, &temporary, e))?;
        let path = dir.join(&name);
        std::fs::rename(&temporary, &path).map_err(|e| file_error(operation, &path, e))?;
        Ok(name)
    }

    fn remove_segment_files(&self, repository: &str, names: &[String]) {
        let dir = self.history_dir(repository);
        for name in names {
            // A file that cannot be removed is only a leftover; the table no longer names it.
            let _ = std::fs::remove_file(dir.join(name));
        }
    }

    /// A pooled connection whose commits do not wait for the disk; hand it back with
    /// [`restore_synchronous`].
    async fn relaxed_connection(
        &self,
        operation: &'static str,
    ) -> Result<PoolConnection<Sqlite>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(query_error(operation))?;
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await
            .map_err(query_error(operation))?;
        Ok(conn)
    }

    pub(crate) async fn read_history(
        &self,
        repository: &str,
    ) -> Result<Vec<HistorySegment>, StoreError> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT seq, commits, file FROM history_segments WHERE repository = $1 ORDER BY seq",
        )
        .bind(repository)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read history"))?;
        let dir = self.history_dir(repository);
        let mut segments = Vec::with_capacity(rows.len());
        for (index, (seq, commits, file)) in rows.into_iter().enumerate() {
            let key = format!("{repository:?} seq {seq}");
            if i64::try_from(index).ok() != Some(seq) {
                return Err(corrupt(
                    TABLE,
                    &key,
                    "seq",
                    format!(
                        "segments must be numbered 0, 1, 2, ...; segment {index} has seq {seq}"
                    ),
                ));
            }
            let path = dir.join(&file);
            let data = map_file(&path).map_err(|e| {
                corrupt(
                    TABLE,
                    &key,
                    "file",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            segments.push(HistorySegment { seq, commits, data });
        }
        Ok(segments)
    }

    pub(crate) async fn append_history_file(
        &self,
        repository: &str,
        segment: &HistorySegment,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "append history";
        let file = self.write_segment_file(repository, segment, OPERATION)?;
        let mut conn = self.relaxed_connection(OPERATION).await?;
        let result = async {
            let mut tx = conn
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(query_error(OPERATION))?;
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(seq) FROM history_segments WHERE repository = $1")
                    .bind(repository)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(query_error(OPERATION))?;
            let expected = match last {
                None => 0,
                Some(last) => last.checked_add(1).ok_or_else(|| {
                    corrupt(
                        TABLE,
                        &format!("{repository:?} seq {last}"),
                        "seq",
                        "the largest possible seq is taken".to_owned(),
                    )
                })?,
            };
            if segment.seq != expected {
                return Err(seq_error(repository, expected, segment.seq, OPERATION));
            }
            insert_row(&mut tx, repository, segment, &file, OPERATION).await?;
            tx.commit().await.map_err(query_error(OPERATION))
        }
        .await;
        restore_synchronous(conn).await;
        if result.is_err() {
            self.remove_segment_files(repository, std::slice::from_ref(&file));
        }
        result
    }

    pub(crate) async fn replace_history_files(
        &self,
        repository: &str,
        segments: &[HistorySegment],
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "replace history";
        for (index, segment) in segments.iter().enumerate() {
            let expected = i64::try_from(index).unwrap_or(i64::MAX);
            if segment.seq != expected {
                return Err(seq_error(repository, expected, segment.seq, OPERATION));
            }
        }
        let mut written = Vec::with_capacity(segments.len());
        for segment in segments {
            match self.write_segment_file(repository, segment, OPERATION) {
                Ok(name) => written.push(name),
                Err(e) => {
                    self.remove_segment_files(repository, &written);
                    return Err(e);
                }
            }
        }
        let mut conn = self.relaxed_connection(OPERATION).await?;
        let result = async {
            let mut tx = conn
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(query_error(OPERATION))?;
            let old: Vec<String> =
                sqlx::query_scalar("SELECT file FROM history_segments WHERE repository = $1")
                    .bind(repository)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(query_error(OPERATION))?;
            sqlx::query("DELETE FROM history_segments WHERE repository = $1")
                .bind(repository)
                .execute(&mut *tx)
                .await
                .map_err(query_error(OPERATION))?;
            for (segment, file) in segments.iter().zip(&written) {
                insert_row(&mut tx, repository, segment, file, OPERATION).await?;
            }
            tx.commit().await.map_err(query_error(OPERATION))?;
            Ok(old)
        }
        .await;
        restore_synchronous(conn).await;
        match result {
            Ok(old) => {
                self.remove_segment_files(repository, &old);
                Ok(())
            }
            Err(e) => {
                self.remove_segment_files(repository, &written);
                Err(e)
            }
        }
    }
}

/// Maps a segment file into memory: its pages come straight from the page cache, with no copy and no
/// fresh memory to zero, which matters for a 50 MB segment read on every run. The mapping is
/// populated up front (the reader checksums every byte anyway): one system call instead of a page
/// fault per few pages.
fn map_file(path: &Path) -> std::io::Result<bytes::Bytes> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() == 0 {
        return Ok(bytes::Bytes::new());
    }
    // SAFETY: the mapping is read-only, and history files are never modified after they are
    // written: each is written in full under a temporary name, renamed into place, and later only
    // removed (removing a mapped file keeps its pages alive). The mapping lives as long as the
    // history read from it (the commit graph reads its columns in place). Another program
    // truncating the file while it is mapped could still fault the process, as with git's own
    // memory-mapped packs.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
    Ok(bytes::Bytes::from_owner(map))
}

/// Puts a connection from [`SqliteStore::relaxed_connection`] back to fully synchronous commits, or
/// closes it rather than let it serve event writes relaxed.
async fn restore_synchronous(mut conn: PoolConnection<Sqlite>) {
    if sqlx::query("PRAGMA synchronous = FULL")
        .execute(&mut *conn)
        .await
        .is_err()
    {
        conn.close_on_drop();
    }
}

async fn insert_row(
    conn: &mut SqliteConnection,
    repository: &str,
    segment: &HistorySegment,
    file: &str,
    operation: &'static str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO history_segments (repository, seq, commits, file, bytes) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(repository)
    .bind(segment.seq)
    .bind(segment.commits)
    .bind(file)
    .bind(i64::try_from(segment.data.len()).unwrap_or(i64::MAX))
    .execute(conn)
    .await
    .map_err(query_error(operation))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_directories_are_stable_and_distinct() {
        assert_eq!(
            repository_dir_name("/a/b/.git"),
            repository_dir_name("/a/b/.git")
        );
        assert_ne!(
            repository_dir_name("/a/b/.git"),
            repository_dir_name("/a/c/.git")
        );
        assert_eq!(repository_dir_name("").len(), 16);
    }
}
