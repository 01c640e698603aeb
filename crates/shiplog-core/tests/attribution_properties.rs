//! Property test: on random commit DAGs and random deployment chains, the changes attributed to each
//! deployment equal the naive definition — the set difference between the ancestors of its commit and
//! the union of the ancestors of every earlier deployment's commit in its chain.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use jiff::Timestamp;
use proptest::prelude::*;
use shiplog_core::{
    AttributionInputs, AttributionOptions, ColumnBytes, CommitGraph, Deployment, DeploymentId,
    DeploymentSource, DeploymentStatus, Environment, NewCommit, ServiceName, Sha, attribute,
    attribute_with,
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
                recorded_by: None,
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

    /// The same attribution whether the graph's first commits are read in place from bytes (the
    /// rest appended after them) or pushed one by one, and whether the caller hands over each
    /// deployment's commit (right or wrong) or leaves attribution to find them.
    #[test]
    fn attribution_is_the_same_from_bytes_and_with_given_commits(
        parents in dag(),
        split in any::<prop::sample::Index>(),
        picks in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, 0i64..50, 0u8..4), 1..25),
    ) {
        let parents: Vec<Vec<u32>> = parents
            .iter()
            .map(|ps| {
                let mut ps: Vec<u32> = ps.iter().map(|&p| p as u32).collect();
                ps.dedup();
                ps
            })
            .collect();
        let commit = |i: usize| NewCommit {
            sha: sha(i),
            parents: &parents[i],
            author_time: 1_700_000_000 + i as i64,
            committer_time: 1_700_000_000 + i as i64,
            reverts: &[],
            shallow: false,
        };
        let mut pushed = CommitGraph::new();
        for i in 0..parents.len() {
            pushed.push(commit(i)).unwrap();
        }
        pushed.close_run();

        // The first `head` commits as one run of little-endian column bytes, the rest pushed.
        let head = split.index(parents.len() + 1);
        let mut first = CommitGraph::new();
        for i in 0..head {
            first.push(commit(i)).unwrap();
        }
        first.close_run();
        let u32s = |v: &mut dyn Iterator<Item = u32>| -> Bytes {
            v.flat_map(u32::to_le_bytes).collect::<Vec<u8>>().into()
        };
        let mut offsets = vec![0u32];
        for i in 0..head {
            offsets.push(offsets[i] + parents[i].len() as u32);
        }
        let run = ColumnBytes {
            shas: (0..head).flat_map(|i| *sha(i).as_bytes()).collect::<Vec<u8>>().into(),
            author_time: (0..head as u32)
                .flat_map(|i| first.author_time(i).to_le_bytes())
                .collect::<Vec<u8>>()
                .into(),
            committer_time: (0..head as u32)
                .flat_map(|i| first.committer_time(i).to_le_bytes())
                .collect::<Vec<u8>>()
                .into(),
            parent_offsets: u32s(&mut offsets.into_iter()),
            parents: u32s(&mut parents[..head].iter().flatten().copied()),
            reverts: Vec::new(),
            shallow: Vec::new(),
            sorted: u32s(&mut first.sorted_run(0).unwrap_or_default().iter().copied()),
            sorted_prefix: u32s(&mut first.sorted_run_prefix(0).unwrap_or_default().iter().copied()),
        };
        let mut graph = CommitGraph::new();
        graph.append_run_bytes(run).unwrap();
        for i in head..parents.len() {
            graph.push(commit(i)).unwrap();
        }
        graph.close_run();
        prop_assert_eq!(graph.len(), parents.len());

        let deployments: Vec<Deployment> = picks
            .iter()
            .enumerate()
            .map(|(k, (commit, chain, hour, _))| Deployment {
                id: DeploymentId::new(&format!("d{k:03}")).unwrap(),
                service: ServiceName::new(&format!("svc{chain}")).unwrap(),
                environment: Environment::production(),
                sha: sha(commit.index(parents.len())),
                finished_at: Timestamp::from_second(1_700_000_000 + hour * 3600).unwrap(),
                started_at: None,
                status: DeploymentStatus::Success,
                unplanned: false,
                source: DeploymentSource::Recorded,
                recorded_by: None,
            })
            .collect();
        // Given commits: right (0, 1), missing (2) or wrong (3).
        let given: Vec<Option<u32>> = picks
            .iter()
            .map(|(commit, _, _, how)| {
                let right = commit.index(parents.len()) as u32;
                match how {
                    0 | 1 => Some(right),
                    2 => None,
                    _ => Some((right + 1) % parents.len() as u32 + u32::from(right.is_multiple_of(2)) * 1000),
                }
            })
            .collect();
        let expected = attribute(&pushed, deployments.clone(), vec![], AttributionOptions::default()).unwrap();
        let got = attribute_with(
            &graph,
            deployments,
            vec![],
            AttributionOptions::default(),
            AttributionInputs { commits: given, ..AttributionInputs::default() },
        )
        .unwrap();
        prop_assert_eq!(&got.changes, &expected.changes);
        prop_assert_eq!(got.deployments.len(), expected.deployments.len());
        for (a, b) in got.deployments.iter().zip(&expected.deployments) {
            prop_assert_eq!(&a.deployment.id, &b.deployment.id);
            prop_assert_eq!(a.commit, b.commit);
            prop_assert_eq!(&a.shipped, &b.shipped);
            prop_assert_eq!(&a.failures, &b.failures);
            prop_assert_eq!(&a.unplanned, &b.unplanned);
        }
    }

    /// With release trains (deployments from tags, one chain per train) the changes of each
    /// deployment are still the naive set difference, taken in (finish time, version, id) order
    /// per train; and a deployment is a rollback exactly when its version is above every earlier
    /// version of its train, it reaches nothing new and its commit is a strict ancestor of the
    /// previous deployment's.
    #[test]
    fn attribution_with_trains_equals_naive_set_difference(
        parents in dag(),
        picks in proptest::collection::vec(
            (any::<prop::sample::Index>(), 0usize..3, 0i64..6, 0u64..3, 0u64..3),
            1..25,
        ),
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

        // (train prefix, service): the main train, a `tool-` train and a changesets package.
        const TRAINS: [(&str, &str); 3] = [("v", "app"), ("tool-", "tool"), ("@acme/web@", "acme/web")];
        // Deployment k: version major.minor.k (unique), so ties in time are broken by version.
        let deployments: Vec<Deployment> = picks
            .iter()
            .enumerate()
            .map(|(k, (commit, train, hour, major, minor))| Deployment {
                id: DeploymentId::new(&format!("tag:{}{major}.{minor}.{k}", TRAINS[*train].0)).unwrap(),
                service: ServiceName::new(TRAINS[*train].1).unwrap(),
                environment: Environment::production(),
                sha: sha(commit.index(parents.len())),
                finished_at: Timestamp::from_second(1_700_000_000 + hour * 3600).unwrap(),
                started_at: None,
                status: DeploymentStatus::Success,
                unplanned: false,
                source: DeploymentSource::GitTag,
                recorded_by: None,
            })
            .collect();
        let model = attribute(&graph, deployments.clone(), vec![], AttributionOptions::default()).unwrap();

        let mut order: Vec<usize> = (0..picks.len()).collect();
        let version = |k: usize| (picks[k].3, picks[k].4, k as u64);
        order.sort_by(|&a, &b| {
            (deployments[a].finished_at, version(a), &deployments[a].id)
                .cmp(&(deployments[b].finished_at, version(b), &deployments[b].id))
        });
        // Per train: commits reached, the highest version and the previous deployment's tip.
        let mut state: HashMap<&ServiceName, TrainState> = HashMap::new();
        for k in order {
            let d = &deployments[k];
            let tip = (0..parents.len()).find(|&i| sha(i) == d.sha).unwrap();
            let all = ancestors(&parents, tip);
            let index = model.deployment_index(&d.id).unwrap();
            let rollback = model.deployments[index]
                .unplanned
                .iter()
                .any(|u| matches!(u, shiplog_core::attribution::UnplannedReason::Rollback { .. }));
            match state.get_mut(&d.service) {
                None => {
                    prop_assert!(!rollback, "the first of a train is no rollback: {}", d.id);
                    let got: BTreeSet<usize> = model.shipped_by(index).iter().map(|c| c.commit as usize).collect();
                    prop_assert_eq!(got, all.clone(), "deployment {}", d.id);
                    state.insert(&d.service, (all, version(k), tip));
                }
                Some((before, highest, prev_tip)) => {
                    let expected: BTreeSet<usize> = all.difference(before).copied().collect();
                    let got: BTreeSet<usize> = model.shipped_by(index).iter().map(|c| c.commit as usize).collect();
                    prop_assert_eq!(got.len(), model.shipped_by(index).len(), "a change listed twice");
                    let naive_rollback = version(k) > *highest
                        && before.contains(&tip)
                        && tip != *prev_tip
                        && ancestors(&parents, *prev_tip).contains(&tip);
                    prop_assert_eq!(rollback, naive_rollback, "rollback {}", d.id);
                    prop_assert_eq!(got, expected, "deployment {}", d.id);
                    before.extend(all);
                    *highest = (*highest).max(version(k));
                    *prev_tip = tip;
                }
            }
        }
    }
}

/// Per train: the commits already shipped, the highest version deployed, the last deployment.
type TrainState = (BTreeSet<usize>, (u64, u64, u64), usize);
