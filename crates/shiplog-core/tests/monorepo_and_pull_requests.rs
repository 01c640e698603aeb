//! Attribution with service membership (monorepos) and pull requests (hotfixes, reverts), on small
//! hand-built histories.

use jiff::Timestamp;
use shiplog_core::attribution::{FailureReason, UnplannedReason};
use shiplog_core::{
    AttributionInputs, AttributionOptions, CommitGraph, Deployment, DeploymentId, DeploymentSource,
    DeploymentStatus, Environment, NewCommit, PrFacts, PrLinks, ServiceMembership, ServiceName,
    Sha, attribute_with,
};

const T0: i64 = 1_772_409_600; // 2026-03-02T00:00:00Z

fn sha(n: u8) -> Sha {
    Sha::from_bytes([n; 20])
}

fn at(hours: i64) -> Timestamp {
    Timestamp::from_second(T0 + hours * 3600).expect("time")
}

/// A linear history 0 ← 1 ← … ← n-1, commit i authored at hour i.
fn line(n: u8) -> CommitGraph {
    let mut g = CommitGraph::new();
    for i in 0..n {
        let parents: Vec<u32> = if i == 0 {
            vec![]
        } else {
            vec![u32::from(i) - 1]
        };
        g.push(NewCommit {
            sha: sha(i),
            parents: &parents,
            author_time: T0 + i64::from(i) * 3600,
            committer_time: T0 + i64::from(i) * 3600,
            reverts: &[],
            shallow: false,
        })
        .expect("push");
    }
    g.close_run();
    g
}

fn deploy(id: &str, service: &str, commit: u8, hours: i64) -> Deployment {
    Deployment {
        id: DeploymentId::new(id).expect("id"),
        service: ServiceName::new(service).expect("service"),
        environment: Environment::production(),
        sha: sha(commit),
        finished_at: at(hours),
        started_at: None,
        status: DeploymentStatus::Success,
        unplanned: false,
        source: DeploymentSource::Recorded,
        recorded_by: None,
    }
}

fn shipped(model: &shiplog_core::DeliveryModel, id: &str) -> Vec<u32> {
    let d = model
        .deployment_index(&DeploymentId::new(id).expect("id"))
        .expect("deployment");
    model.shipped_by(d).iter().map(|c| c.commit).collect()
}

#[test]
fn a_deployment_ships_only_its_services_commits_and_rollbacks_still_count() {
    // Commits: 0 all, 1 api, 2 web, 3 none, 4 api.
    let g = line(5);
    let membership = ServiceMembership::new(
        vec![
            ServiceName::new("api").expect("api"),
            ServiceName::new("web").expect("web"),
        ],
        vec![0b11, 0b01, 0b10, 0b00, 0b01],
        5,
    )
    .expect("membership");
    let deployments = vec![
        deploy("A1", "api", 0, 1),
        deploy("A2", "api", 3, 10),
        // Back to 2: a rollback though A2 shipped only one api change.
        deploy("A3", "api", 2, 11),
        deploy("W1", "web", 0, 1),
        deploy("W2", "web", 4, 12),
        // "docs" has no paths: it owns every commit.
        deploy("D1", "docs", 0, 1),
        deploy("D2", "docs", 4, 12),
    ];
    let model = attribute_with(
        &g,
        deployments,
        vec![],
        AttributionOptions::default(),
        AttributionInputs {
            membership: Some(&membership),
            pull_requests: PrLinks::default(),
            commits: Vec::new(),
        },
    )
    .expect("attribution");
    assert_eq!(shipped(&model, "A2"), [1]);
    assert_eq!(shipped(&model, "W2"), [2]);
    let mut docs = shipped(&model, "D2");
    docs.sort_unstable();
    assert_eq!(docs, [1, 2, 3, 4]);
    let a2 = model
        .deployment_index(&DeploymentId::new("A2").expect("id"))
        .expect("A2");
    assert!(matches!(
        model.deployments[a2].failures[..],
        [FailureReason::RolledBack { .. }]
    ));
}

fn pr(number: u64, merge: u8, merged_hours: i64) -> PrFacts {
    PrFacts {
        key: format!("github:acme/app#{number}"),
        repository: "acme/app".to_owned(),
        number: Some(number),
        title: Some(format!("change {number}")),
        head_branch: Some(format!("feature-{number}")),
        opened_at: at(0),
        ready_at: None,
        first_review_at: None,
        merged_at: Some(at(merged_hours)),
        merge_commit: Some(sha(merge)),
        commits: vec![],
        first_commit_at: None,
        hotfix: false,
        revert_branch: false,
    }
}

#[test]
fn hotfix_and_revert_pull_requests_mark_their_deployments() {
    let g = line(5);
    let mut hotfix = pr(2, 2, 2);
    hotfix.hotfix = true;
    let mut revert = pr(3, 3, 3);
    revert.head_branch = Some("revert-1-feature-1".to_owned());
    revert.revert_branch = true;
    // The baseline's hotfix pull request (#9, merge commit 0) changes nothing.
    let mut old_hotfix = pr(9, 0, 0);
    old_hotfix.hotfix = true;
    let links = PrLinks::build(&g, vec![pr(1, 1, 1), hotfix, revert, old_hotfix], &[]);
    let model = attribute_with(
        &g,
        vec![
            deploy("D0", "app", 0, 0),
            deploy("D1", "app", 1, 5),
            deploy("D2", "app", 2, 6),
            deploy("D3", "app", 3, 7),
        ],
        vec![],
        AttributionOptions::default(),
        AttributionInputs {
            membership: None,
            pull_requests: links,
            commits: Vec::new(),
        },
    )
    .expect("attribution");
    let d = |id: &str| {
        &model.deployments[model
            .deployment_index(&DeploymentId::new(id).expect("id"))
            .expect("deployment")]
    };
    assert!(d("D0").unplanned.is_empty());
    assert_eq!(
        d("D1").failures,
        [FailureReason::RevertedPullRequest {
            pull_request: 0,
            revert: 2,
            by: 3
        }]
    );
    assert_eq!(d("D1").recovery.expect("recovered").duration.as_hours(), 2);
    assert_eq!(
        d("D2").unplanned,
        [UnplannedReason::HotfixPullRequest { pull_request: 1 }]
    );
    assert_eq!(
        d("D3").unplanned,
        [UnplannedReason::ShipsRevertPullRequest {
            revert: 2,
            pull_request: 0,
            of: 1
        }]
    );
}
