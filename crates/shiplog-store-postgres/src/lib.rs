//! shiplog's PostgreSQL store (work in progress).
