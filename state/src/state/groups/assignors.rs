//! The server-side assignors of the consumer group protocol (KIP-848,
//! `group.consumer.assignors`): `uniform` (the default) and `range`.
//!
//! An assignor maps each member to the partitions it should own, from the members'
//! subscriptions and the subscribed topics' partition counts. Neither reproduces
//! Kafka's assignments partition for partition — those follow member ids, which are
//! random in Kafka — but both keep Kafka's contract:
//!
//! - `uniform`: every subscribed partition goes to one member subscribed to its topic;
//!   with identical subscriptions the counts differ by at most one; partitions stay
//!   with their previous owner where balance allows (sticky), so a member joining or
//!   leaving moves as few partitions as it can; with mixed subscriptions, the topics
//!   fewest members subscribe to are placed first, to the least loaded.
//! - `range`: per topic, the members subscribed to it, in member id order, each get a
//!   contiguous range; the first `partitions % members` get one more. Members subscribed
//!   to the same co-partitioned topics get the same partition numbers of each.

use std::collections::{BTreeMap, BTreeSet};

/// Partitions by topic name.
pub type Assignment = BTreeMap<String, BTreeSet<i32>>;

pub const UNIFORM: &str = "uniform";
pub const RANGE: &str = "range";
/// `group.consumer.assignors`, the first being the default.
pub const ASSIGNORS: [&str; 2] = [UNIFORM, RANGE];

/// What an assignor needs of one member.
pub struct MemberSpec<'a> {
    pub id: &'a str,
    pub topics: &'a BTreeSet<String>,
    /// The previous target assignment, for stickiness.
    pub previous: Option<&'a Assignment>,
}

/// Runs `assignor` (one of [`ASSIGNORS`]) over `members` and the partition counts of the
/// subscribed topics that exist.
pub fn assign(
    assignor: &str,
    members: &[MemberSpec<'_>],
    topics: &BTreeMap<String, i32>,
) -> BTreeMap<String, Assignment> {
    let mut out: BTreeMap<String, Assignment> = members
        .iter()
        .map(|m| (m.id.to_string(), Assignment::new()))
        .collect();
    if assignor == RANGE {
        range(members, topics, &mut out);
    } else {
        uniform(members, topics, &mut out);
    }
    out
}

fn range(
    members: &[MemberSpec<'_>],
    topics: &BTreeMap<String, i32>,
    out: &mut BTreeMap<String, Assignment>,
) {
    for (topic, &count) in topics {
        let subscribers: Vec<&str> = members
            .iter()
            .filter(|m| m.topics.contains(topic))
            .map(|m| m.id)
            .collect();
        if subscribers.is_empty() {
            continue;
        }
        let n = subscribers.len() as i32;
        let (base, extra) = (count / n, count % n);
        let mut next = 0;
        for (i, member) in subscribers.iter().enumerate() {
            let take = base + i32::from((i as i32) < extra);
            if take > 0 {
                out.get_mut(*member)
                    .expect("every member has an entry")
                    .insert(topic.clone(), (next..next + take).collect());
            }
            next += take;
        }
    }
}

fn uniform(
    members: &[MemberSpec<'_>],
    topics: &BTreeMap<String, i32>,
    out: &mut BTreeMap<String, Assignment>,
) {
    let all: Vec<(&String, i32)> = topics
        .iter()
        .filter(|(t, _)| members.iter().any(|m| m.topics.contains(*t)))
        .flat_map(|(t, &count)| (0..count).map(move |p| (t, p)))
        .collect();
    if members.is_empty() || all.is_empty() {
        return;
    }
    let base = all.len() / members.len();
    let mut extra = all.len() % members.len();
    let mut load: BTreeMap<&str, usize> = members.iter().map(|m| (m.id, 0)).collect();
    let mut owner: BTreeMap<(&String, i32), &str> = BTreeMap::new();
    // Previous owners keep what they may: first up to the even share, then one more for
    // as many members as the remainder allows.
    let kept = |m: &MemberSpec<'_>| -> Vec<(&String, i32)> {
        all.iter()
            .copied()
            .filter(|(t, p)| {
                m.topics.contains(*t)
                    && m.previous
                        .and_then(|a| a.get(*t))
                        .is_some_and(|ps| ps.contains(p))
            })
            .collect()
    };
    let previous: Vec<Vec<(&String, i32)>> = members.iter().map(kept).collect();
    for (m, mine) in members.iter().zip(&previous) {
        for &tp in mine.iter().take(base) {
            owner.insert(tp, m.id);
            *load.get_mut(m.id).expect("member") += 1;
        }
    }
    for (m, mine) in members.iter().zip(&previous) {
        if extra == 0 {
            break;
        }
        if let Some(&tp) = mine.get(base) {
            owner.insert(tp, m.id);
            *load.get_mut(m.id).expect("member") += 1;
            extra -= 1;
        }
    }
    // The rest go, one by one, to the least loaded member subscribed to the topic: the
    // topics fewest members can take first, so that members with a narrow subscription
    // fill up on what only they can have and the others balance around them.
    let subscribers = |t: &String| members.iter().filter(|m| m.topics.contains(t)).count();
    let mut rest: Vec<(&String, i32)> = all.clone();
    rest.sort_by_key(|&(t, p)| (subscribers(t), t, p));
    for &(t, p) in &rest {
        if owner.contains_key(&(t, p)) {
            continue;
        }
        let Some(m) = members
            .iter()
            .filter(|m| m.topics.contains(t))
            .min_by_key(|m| (load[m.id], m.id))
        else {
            continue;
        };
        owner.insert((t, p), m.id);
        *load.get_mut(m.id).expect("member") += 1;
    }
    for ((t, p), m) in owner {
        out.get_mut(m)
            .expect("every member has an entry")
            .entry(t.clone())
            .or_default()
            .insert(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics(list: &[(&str, i32)]) -> BTreeMap<String, i32> {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    fn count(a: &Assignment) -> usize {
        a.values().map(BTreeSet::len).sum()
    }

    #[test]
    fn uniform_balances_and_keeps_previous_owners() {
        let subscribed: BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
        let t = topics(&[("a", 4), ("b", 3)]);
        let one = [MemberSpec {
            id: "m1",
            topics: &subscribed,
            previous: None,
        }];
        let first = assign(UNIFORM, &one, &t);
        assert_eq!(count(&first["m1"]), 7);
        let two = [
            MemberSpec {
                id: "m1",
                topics: &subscribed,
                previous: Some(&first["m1"]),
            },
            MemberSpec {
                id: "m2",
                topics: &subscribed,
                previous: None,
            },
        ];
        let second = assign(UNIFORM, &two, &t);
        let (c1, c2) = (count(&second["m1"]), count(&second["m2"]));
        assert_eq!(c1 + c2, 7);
        assert!(c1.abs_diff(c2) <= 1);
        // m1 gave up only what m2 needed.
        for (topic, ps) in &second["m1"] {
            assert!(ps.is_subset(&first["m1"][topic]));
        }
    }

    #[test]
    fn uniform_balances_mixed_subscriptions() {
        let both: BTreeSet<String> = ["x".to_string(), "y".to_string()].into();
        let x: BTreeSet<String> = ["x".to_string()].into();
        let members = [
            MemberSpec {
                id: "a",
                topics: &both,
                previous: None,
            },
            MemberSpec {
                id: "b",
                topics: &x,
                previous: None,
            },
        ];
        let out = assign(UNIFORM, &members, &topics(&[("x", 2), ("y", 2)]));
        assert_eq!((count(&out["a"]), count(&out["b"])), (2, 2));
    }

    #[test]
    fn range_gives_contiguous_ranges_per_topic() {
        let subscribed: BTreeSet<String> = ["a".to_string()].into();
        let members = [
            MemberSpec {
                id: "m1",
                topics: &subscribed,
                previous: None,
            },
            MemberSpec {
                id: "m2",
                topics: &subscribed,
                previous: None,
            },
        ];
        let out = assign(RANGE, &members, &topics(&[("a", 5)]));
        assert_eq!(out["m1"]["a"], BTreeSet::from([0, 1, 2]));
        assert_eq!(out["m2"]["a"], BTreeSet::from([3, 4]));
    }

    #[test]
    fn only_subscribers_get_a_topic() {
        let a: BTreeSet<String> = ["a".to_string()].into();
        let b: BTreeSet<String> = ["b".to_string()].into();
        let members = [
            MemberSpec {
                id: "m1",
                topics: &a,
                previous: None,
            },
            MemberSpec {
                id: "m2",
                topics: &b,
                previous: None,
            },
        ];
        for assignor in ASSIGNORS {
            let out = assign(assignor, &members, &topics(&[("a", 2), ("b", 2)]));
            assert_eq!(out["m1"].keys().collect::<Vec<_>>(), ["a"], "{assignor}");
            assert_eq!(out["m2"].keys().collect::<Vec<_>>(), ["b"], "{assignor}");
        }
    }
}
