//! The report tests' fixture: the `basic` repository (docs/metrics.md's worked example) with its
//! three incidents and one practice change recorded.

use crate::common::Fixture;

/// The `basic` fixture with inc-3 (names tag:v1.1.0), inc-1 (5 h after v1.3.0), inc-2 (outside
/// the attribution window) and the practice change "Trunk-based development" from 2026-01-08.
pub fn basic_with_records() -> Fixture {
    let fx = Fixture::build("basic");
    for args in [
        &[
            "record",
            "incident",
            "--service",
            "app",
            "--id",
            "inc-3",
            "--opened-at",
            "2026-01-07T12:00:00Z",
            "--resolved-at",
            "2026-01-07T14:00:00Z",
            "--deployment-id",
            "tag:v1.1.0",
        ][..],
        &[
            "record",
            "incident",
            "--service",
            "app",
            "--id",
            "inc-1",
            "--opened-at",
            "2026-01-09T15:00:00Z",
            "--resolved-at",
            "2026-01-09T18:00:00Z",
            "--title",
            "errors",
        ][..],
        &[
            "record",
            "incident",
            "--service",
            "app",
            "--id",
            "inc-2",
            "--opened-at",
            "2026-01-13T09:00:00+02:00",
        ][..],
        &[
            "practice",
            "start",
            "Trunk-based development",
            "--on",
            "2026-01-08",
            "--service",
            "app",
        ][..],
    ] {
        fx.ok(args);
    }
    fx
}
