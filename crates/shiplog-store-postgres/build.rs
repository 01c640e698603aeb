//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the files of
//! `migrations/`, but cargo only notices new files if told to watch the directory.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
