//! Property test: on random commit DAGs and random deployment chains, the changes attributed to each
//! deployment equal the naive definition — the set difference between the ancestors of its commit and
//! the union of the ancestors of every earlier deployment's commit in its chain.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use proptest::prelude::*;
use shiplog_core::{
    AttributionOptions, CommitGraph, Deployment, DeploymentId, DeploymentSource, DeploymentStatus,
    Environment, NewCommit, ServiceName, Sha, attribute,
};

fn sha(i: usize) -> Sha {
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&(i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
    b[19] = 1;
    Sha::from_bytes(b)
}

/// A DAG: commit i's parents are drawn from commits before it (0 to 3 of them).
fn dag() -> impl Strategy<Value = Vec<Vec<usize>>> {
    (1usize..60).prop_flat_map(|n| {
        let commits: Vec<_> = (0..n)
            .map(|i| {
                if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    proptest::collection::vec(0..i, 0..=3).boxed()
                }
            })
            .collect();
        commits
    })
}

fn ancestors(parents: &[Vec<usize>], tip: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![tip];
    while let Some(c) = stack.pop() {
        if seen.insert(c) {
            stack.extend(parents[c].iter().copied());
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn attribution_equals_naive_set_difference(
        parents in dag(),
        picks in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, 0i64..50), 1..25),
    ) {
        let mut graph = CommitGraph::new();
        for (i, ps) in parents.iter().enumerate() {
            let mut ps: Vec<u32> = ps.iter().map(|&p| p as u32).collect();
            ps.dedup();
            graph.push(NewCommit {
                sha: sha(i),
                parents: &ps,
                author_time: 1_700_000_000,
                committer_time: 1_700_000_000,
                reverts: &[],
                shallow: false,
            }).unwrap();
        }
        graph.close_run();

        let deployments: Vec<Deployment> = picks
            .iter()
            .enumerate()
            .map(|(k, (commit, chain, hour))| Deployment {
                id: DeploymentId::new(&format!("d{k:03}")).unwrap(),
                service: ServiceName::new(&format!("svc{chain}")).unwrap(),
                environment: Environment::production(),
                sha: sha(commit.index(parents.len())),
                finished_at: Timestamp::from_second(1_700_000_000 + hour * 3600).unwrap(),
                started_at: None,
                status: DeploymentStatus::Success,
                unplanned: false,
                source: DeploymentSource::Recorded,
            })
            .collect();
        let model = attribute(&graph, deployments.clone(), vec![], AttributionOptions::default()).unwrap();

        // Naive: per chain, in (finished_at, id) order.
        let mut order: Vec<&Deployment> = deployments.iter().collect();
        order.sort_by(|a, b| (a.finished_at, &a.id).cmp(&(b.finished_at, &b.id)));
        let mut reached: HashMap<&ServiceName, BTreeSet<usize>> = HashMap::new();
        for d in order {
            let tip = (0..parents.len()).find(|&i| sha(i) == d.sha).unwrap();
            let all = ancestors(&parents, tip);
            let before = reached.entry(&d.service).or_default();
            let expected: BTreeSet<usize> = all.difference(before).copied().collect();
            before.extend(all);

            let index = model.deployment_index(&d.id).unwrap();
            let got: BTreeSet<usize> = model.shipped_by(index).iter().map(|c| c.commit as usize).collect();
            prop_assert_eq!(got.len(), model.shipped_by(index).len(), "a change listed twice");
            prop_assert_eq!(got, expected, "deployment {}", d.id);
        }
    }
}
