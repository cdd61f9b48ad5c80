//! The membership state machine driven directly, with explicit clock readings: every
//! timer (session, rebalance, initial delay, pending sync) is checked by passing `now`
//! past its deadline, so these tests neither sleep nor depend on the machine's speed.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::*;
use crate::error::KafkaError;
use crate::rng::SimRng;

fn join_request(member_id: &str, protocols: &[&str]) -> JoinRequest {
    JoinRequest {
        group_id: "g".into(),
        member_id: member_id.into(),
        instance_id: None,
        client_id: "client".into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 30_000,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{p}"))))
            .collect(),
        require_known_member_id: true,
        skip_assignment_supported: true,
    }
}

struct Harness {
    groups: Groups,
    rng: SimRng,
}

impl Harness {
    fn new(config: GroupConfig) -> Self {
        Harness {
            groups: Groups::new(config),
            rng: SimRng::new(1),
        }
    }

    fn join(&mut self, req: JoinRequest, now: i64) -> Pending<JoinResult> {
        self.groups.join(req, now, &mut self.rng)
    }

    /// The two-step join of a new dynamic member; returns its id and parked answer.
    fn join_new(&mut self, protocols: &[&str], now: i64) -> (String, Pending<JoinResult>) {
        let Pending::Ready(first) = self.join(join_request("", protocols), now) else {
            panic!("an unknown member is answered at once");
        };
        assert_eq!(first.error, Some(ResponseError::MemberIdRequired));
        let id = first.member_id.clone();
        (id.clone(), self.join(join_request(&id, protocols), now))
    }

    fn state(&self) -> GroupState {
        self.groups.get("g").expect("group exists").state
    }

    fn sync(
        &mut self,
        member_id: &str,
        generation: i32,
        assignments: &[(&str, &str)],
        now: i64,
    ) -> Pending<SyncResult> {
        self.groups.sync(
            SyncRequest {
                group_id: "g".into(),
                generation,
                member_id: member_id.into(),
                instance_id: None,
                protocol_type: None,
                protocol_name: None,
                assignments: assignments
                    .iter()
                    .map(|(m, a)| (m.to_string(), Bytes::from(a.to_string())))
                    .collect(),
            },
            now,
        )
    }
}

fn answered<T>(pending: Pending<T>) -> T {
    match pending {
        Pending::Ready(value) => value,
        Pending::Wait(mut rx) => rx.try_recv().expect("answered by now"),
    }
}

fn still_waiting<T: std::fmt::Debug>(pending: &mut Pending<T>) {
    if let Pending::Wait(rx) = pending {
        assert!(rx.try_recv().is_err(), "should still be waiting");
    } else {
        panic!("expected a parked request");
    }
}

/// One member joins an empty group and syncs: the group is Stable.
fn stable_single(h: &mut Harness, now: i64) -> String {
    let (id, pending) = h.join_new(&["range"], now);
    let joined = answered(pending);
    assert_eq!(joined.error, None);
    assert_eq!(joined.leader, id);
    let synced = answered(h.sync(&id, joined.generation, &[(&id, "a1")], now));
    assert_eq!(synced.assignment, Bytes::from("a1"));
    assert_eq!(h.state(), GroupState::Stable);
    id
}

#[test]
fn first_member_gets_generation_one_and_leads_with_every_members_metadata() {
    let mut h = Harness::new(GroupConfig::default());
    let (id, pending) = h.join_new(&["range", "roundrobin"], 0);
    let joined = answered(pending);
    assert_eq!(joined.protocol_name.as_deref(), Some("range"));
    assert_eq!(joined.members.len(), 1);
    assert_eq!(joined.members[0].member_id, id);
    assert_eq!(joined.members[0].metadata, Bytes::from("meta-range"));
    assert!(id.starts_with("client-"), "{id}");
    assert_eq!(h.state(), GroupState::CompletingRebalance);
}

#[test]
fn a_second_member_waits_until_the_first_rejoins_and_a_follower_sync_waits_for_the_leader() {
    let mut h = Harness::new(GroupConfig::default());
    let leader = stable_single(&mut h, 0);
    let (follower, mut parked) = h.join_new(&["range"], 1);
    still_waiting(&mut parked);
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    assert_eq!(
        h.groups.heartbeat("g", 1, &leader, None, 2),
        Err(KafkaError::from(ResponseError::RebalanceInProgress))
    );
    let leader_join = answered(h.join(join_request(&leader, &["range"]), 3));
    let follower_join = answered(parked);
    assert_eq!((leader_join.generation, follower_join.generation), (2, 2));
    assert_eq!(leader_join.members.len(), 2);
    assert!(follower_join.members.is_empty());
    let mut follower_sync = h.sync(&follower, 2, &[], 4);
    still_waiting(&mut follower_sync);
    answered(h.sync(&leader, 2, &[(&leader, "L"), (&follower, "F")], 5));
    assert_eq!(answered(follower_sync).assignment, Bytes::from("F"));
    assert_eq!(h.groups.heartbeat("g", 2, &follower, None, 6), Ok(()));
    assert_eq!(
        h.groups.heartbeat("g", 1, &follower, None, 6),
        Err(KafkaError::from(ResponseError::IllegalGeneration))
    );
}

#[test]
fn the_protocol_is_the_common_one_with_most_first_choice_votes() {
    let mut h = Harness::new(GroupConfig::default());
    let Pending::Ready(a) = h.join(join_request("", &["range", "roundrobin"]), 0) else {
        panic!()
    };
    // The first member's join completes alone; the second arrives for generation 2.
    answered(h.join(join_request(&a.member_id, &["range", "roundrobin"]), 0));
    let (_b, b_join) = h.join_new(&["roundrobin"], 1);
    let a_rejoin = answered(h.join(join_request(&a.member_id, &["range", "roundrobin"]), 2));
    assert_eq!(a_rejoin.protocol_name.as_deref(), Some("roundrobin"));
    assert_eq!(
        answered(b_join).protocol_name.as_deref(),
        Some("roundrobin")
    );
    let refused = answered(h.join(join_request("", &["sticky"]), 3));
    assert_eq!(
        refused.error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
}

#[test]
fn session_timeout_expires_a_silent_member_and_the_group_empties() {
    let mut h = Harness::new(GroupConfig::default());
    let id = stable_single(&mut h, 0);
    assert_eq!(h.groups.next_deadline(), Some(10_000));
    h.groups.tick(9_999);
    assert_eq!(h.state(), GroupState::Stable);
    assert_eq!(h.groups.heartbeat("g", 1, &id, None, 5_000), Ok(()));
    h.groups.tick(10_000);
    assert_eq!(
        h.state(),
        GroupState::Stable,
        "the heartbeat renewed the session"
    );
    h.groups.tick(15_000);
    let g = h.groups.get("g").unwrap();
    assert_eq!(
        (g.state, g.generation, g.members.len()),
        (GroupState::Empty, 2, 0)
    );
    assert_eq!(
        h.groups.heartbeat("g", 1, &id, None, 15_001),
        Err(KafkaError::from(ResponseError::UnknownMemberId))
    );
}

#[test]
fn a_member_that_does_not_rejoin_within_the_rebalance_timeout_is_dropped() {
    let mut h = Harness::new(GroupConfig::default());
    let first = stable_single(&mut h, 0);
    let (second, parked) = h.join_new(&["range"], 1_000);
    // The first member keeps heartbeating but never rejoins.
    for t in (2_000..31_000).step_by(2_000) {
        let _ = h.groups.heartbeat("g", 1, &first, None, t);
        h.groups.tick(t);
    }
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    h.groups.tick(31_000);
    let joined = answered(parked);
    assert_eq!(joined.generation, 2);
    assert_eq!(
        joined.leader, second,
        "leadership passes to a member still present"
    );
    let g = h.groups.get("g").unwrap();
    assert!(g.members.contains_key(&second) && !g.members.contains_key(&first));
}

#[test]
fn the_initial_delay_holds_the_first_rebalance_and_extends_for_newcomers() {
    let mut h = Harness::new(GroupConfig {
        initial_rebalance_delay_ms: 3_000,
        ..GroupConfig::default()
    });
    let (_a, mut a) = h.join_new(&["range"], 0);
    still_waiting(&mut a);
    let (_b, mut b) = h.join_new(&["range"], 2_000);
    h.groups.tick(3_000);
    still_waiting(&mut a);
    still_waiting(&mut b);
    h.groups.tick(6_000);
    let (a, b) = (answered(a), answered(b));
    assert_eq!((a.generation, b.generation), (1, 1));
    assert_eq!(a.members.len() + b.members.len(), 2);
}

#[test]
fn a_member_that_never_syncs_is_dropped_after_the_rebalance_timeout() {
    let mut h = Harness::new(GroupConfig::default());
    let leader = stable_single(&mut h, 0);
    let (follower, parked) = h.join_new(&["range"], 1);
    answered(h.join(join_request(&leader, &["range"]), 1));
    answered(parked);
    answered(h.sync(&leader, 2, &[(&leader, "L"), (&follower, "F")], 2));
    let _ = h.groups.heartbeat("g", 2, &follower, None, 25_000);
    let _ = h.groups.heartbeat("g", 2, &leader, None, 25_000);
    h.groups.tick(30_001);
    let g = h.groups.get("g").unwrap();
    assert!(!g.members.contains_key(&follower));
    assert_eq!(g.state, GroupState::PreparingRebalance);
}

#[test]
fn a_restarted_static_member_takes_over_without_a_rebalance_and_fences_the_old_id() {
    let mut h = Harness::new(GroupConfig::default());
    let static_join = |member_id: &str| JoinRequest {
        instance_id: Some("instance-1".into()),
        ..join_request(member_id, &["range"])
    };
    let first = answered(h.join(static_join(""), 0));
    assert_eq!(first.error, None, "static members skip MEMBER_ID_REQUIRED");
    assert!(first.member_id.starts_with("instance-1-"));
    let mut sync = SyncRequest {
        group_id: "g".into(),
        generation: 1,
        member_id: first.member_id.clone(),
        instance_id: Some("instance-1".into()),
        protocol_type: None,
        protocol_name: None,
        assignments: vec![(first.member_id.clone(), Bytes::from("A"))],
    };
    answered(h.groups.sync(sync.clone(), 1));
    let again = answered(h.join(static_join(""), 2));
    assert_eq!((again.error, again.generation), (None, 1));
    assert_ne!(again.member_id, first.member_id);
    assert_eq!(h.state(), GroupState::Stable);
    sync.member_id = again.member_id.clone();
    sync.assignments.clear();
    assert_eq!(
        answered(h.groups.sync(sync, 3)).assignment,
        Bytes::from("A")
    );
    assert_eq!(
        h.groups
            .heartbeat("g", 1, &first.member_id, Some("instance-1"), 4),
        Err(KafkaError::from(ResponseError::FencedInstanceId))
    );
}

#[test]
fn leaving_and_expiring_start_a_rebalance_and_pending_members_expire() {
    let mut h = Harness::new(GroupConfig::default());
    let id = stable_single(&mut h, 0);
    let results = h
        .groups
        .leave("g", &[(id.clone(), None), ("nobody".into(), None)], 1)
        .unwrap();
    assert_eq!(
        results,
        vec![
            Ok(()),
            Err(KafkaError::from(ResponseError::UnknownMemberId))
        ]
    );
    assert_eq!(h.state(), GroupState::Empty);
    let Pending::Ready(pending) = h.join(join_request("", &["range"]), 2) else {
        panic!()
    };
    assert_eq!(h.groups.next_deadline(), Some(10_002));
    h.groups.tick(10_002);
    let late = answered(h.join(join_request(&pending.member_id, &["range"]), 10_003));
    assert_eq!(late.error, Some(ResponseError::UnknownMemberId));
    let id = stable_single(&mut h, 20_000);
    assert_eq!(h.groups.expire_member("g", &id, 20_001), Ok(()));
    assert_eq!(h.state(), GroupState::Empty);
}

#[test]
fn bounds_and_size_limits_are_enforced() {
    let mut h = Harness::new(GroupConfig {
        max_size: 1,
        ..GroupConfig::default()
    });
    let short = JoinRequest {
        session_timeout_ms: 10,
        ..join_request("", &["range"])
    };
    assert_eq!(
        answered(h.join(short, 0)).error,
        Some(ResponseError::InvalidSessionTimeout)
    );
    stable_single(&mut h, 0);
    assert_eq!(
        answered(h.join(join_request("", &["range"]), 1)).error,
        Some(ResponseError::GroupMaxSizeReached)
    );
}

fn static_join(member_id: &str, metadata: &str, v9: bool) -> JoinRequest {
    JoinRequest {
        instance_id: Some("instance-1".into()),
        protocols: vec![("range".into(), Bytes::from(metadata.to_string()))],
        skip_assignment_supported: v9,
        ..join_request(member_id, &["range"])
    }
}

#[test]
fn a_static_restart_during_a_rebalance_joins_it_under_the_new_id() {
    let mut h = Harness::new(GroupConfig::default());
    let first = answered(h.join(static_join("", "m1", true), 0));
    answered(h.sync(&first.member_id, 1, &[], 0));
    // A dynamic member arrives: the group prepares a rebalance, then the static member's
    // process restarts (no member id) before rejoining.
    let (_other, mut other_join) = h.join_new(&["range"], 1);
    still_waiting(&mut other_join);
    let restarted = h.join(static_join("", "m2", true), 2);
    let restarted = answered(restarted);
    assert_eq!((restarted.error, restarted.generation), (None, 2));
    assert_ne!(restarted.member_id, first.member_id);
    assert_eq!(answered(other_join).generation, 2);
}

#[test]
fn a_static_restart_with_new_metadata_but_the_same_protocol_does_not_rebalance() {
    let mut h = Harness::new(GroupConfig::default());
    let first = answered(h.join(static_join("", "owned-nothing", false), 0));
    answered(h.sync(&first.member_id, 1, &[(&first.member_id, "A")], 0));
    let again = answered(h.join(static_join("", "owned-partitions", false), 1));
    assert_eq!((again.error, again.generation), (None, 1));
    assert_eq!(h.state(), GroupState::Stable);
    // Before v9 the restarted leader is not told it leads, so it does not assign again.
    assert_eq!(again.leader, first.member_id);
    assert!(again.members.is_empty());
    assert_eq!(
        answered(h.sync(&again.member_id, 1, &[], 2)).assignment,
        Bytes::from("A")
    );
}

#[test]
fn a_static_member_that_misses_a_rebalance_keeps_its_place_until_its_session_ends() {
    let mut h = Harness::new(GroupConfig::default());
    // Its session (60 s) outlasts the other member's rebalance timeout (30 s).
    let long_session = JoinRequest {
        session_timeout_ms: 60_000,
        rebalance_timeout_ms: 20_000,
        ..static_join("", "m", true)
    };
    let static_member = answered(h.join(long_session, 0));
    answered(h.sync(&static_member.member_id, 1, &[], 0));
    let (dynamic, parked) = h.join_new(&["range"], 1);
    h.groups.tick(30_001);
    let joined = answered(parked);
    assert_eq!(
        joined.leader, dynamic,
        "the leader is a member that rejoined"
    );
    assert_eq!(
        joined.members.len(),
        2,
        "the absent static member is still listed"
    );
    assert!(
        h.groups
            .get("g")
            .unwrap()
            .members
            .contains_key(&static_member.member_id)
    );
}

#[test]
fn an_offset_an_open_transaction_also_commits_stays_and_keeps_its_group() {
    let mut h = Harness::new(GroupConfig {
        offsets_retention_ms: 1_000,
        ..GroupConfig::default()
    });
    let committed = |offset| CommittedOffset {
        offset,
        leader_epoch: -1,
        metadata: None,
        commit_timestamp: 0,
    };
    let g = h.groups.get_or_create("g", 0);
    g.offsets.insert(("t".into(), 0), committed(1));
    g.offsets.insert(("t".into(), 1), committed(2));
    g.pending_txn_offsets
        .entry(7)
        .or_default()
        .insert(("t".into(), 0), committed(3));
    let expired = h.groups.expire(5_000);
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].offsets, [("t".to_string(), 1)]);
    assert!(
        !expired[0].deleted,
        "a transaction still holds offsets of the group"
    );
    assert!(
        h.groups
            .get("g")
            .unwrap()
            .offsets
            .contains_key(&("t".into(), 0))
    );
    h.groups.complete_transaction("g", 7, false);
    let expired = h.groups.expire(5_001);
    assert_eq!(expired[0].offsets, [("t".to_string(), 0)]);
    assert!(expired[0].deleted && h.groups.get("g").is_none());
}

/// A group `group` whose one member joined and synced at `now`; the member's id.
fn stable_in(h: &mut Harness, group: &str, now: i64) -> String {
    let mut req = join_request("", &["range"]);
    req.group_id = group.into();
    let Pending::Ready(first) = h.join(req.clone(), now) else {
        panic!("an unknown member is answered at once");
    };
    req.member_id = first.member_id;
    let joined = answered(h.join(req, now));
    let id = joined.member_id.clone();
    let sync = SyncRequest {
        group_id: group.into(),
        generation: joined.generation,
        member_id: id.clone(),
        instance_id: None,
        protocol_type: None,
        protocol_name: None,
        assignments: vec![(id.clone(), Bytes::from("a"))],
    };
    assert_eq!(answered(h.groups.sync(sync, now)).error, None);
    id
}

#[test]
fn a_heartbeat_moves_only_its_own_groups_deadline_among_many() {
    let mut h = Harness::new(GroupConfig::default());
    let group = |i: usize| format!("g{i:02}");
    let members: Vec<String> = (0..50)
        .map(|i| stable_in(&mut h, &group(i), i as i64))
        .collect();
    assert_eq!(h.groups.next_deadline(), Some(10_000), "g00's session");
    for (i, id) in members.iter().enumerate().step_by(2) {
        assert_eq!(h.groups.heartbeat(&group(i), 1, id, None, 5_000), Ok(()));
    }
    assert_eq!(
        h.groups.next_deadline(),
        Some(10_001),
        "g00 renewed its session; g01 did not"
    );
    h.groups.tick(10_049);
    for i in 0..50 {
        let expected = if i % 2 == 0 {
            GroupState::Stable
        } else {
            GroupState::Empty
        };
        assert_eq!(
            h.groups.get(&group(i)).unwrap().state,
            expected,
            "{}",
            group(i)
        );
    }
    assert_eq!(
        h.groups.next_deadline(),
        Some(15_000),
        "the renewed sessions"
    );
}

/// What every group request does (`Ctx::group_heartbeat`): the operation, then the
/// next deadline. The index must then hold no group still to recompute, or each heartbeat
/// recomputes every group that heartbeated since the timer task last ran (it is not woken
/// by heartbeats): with 1,000 groups, a scan of all of them per request, which raised
/// other clients' p99 threefold when groups were under the state lock (`bench scale`).
#[test]
fn each_heartbeat_leaves_only_its_own_group_to_recompute() {
    let mut h = Harness::new(GroupConfig::default());
    let group = |i: usize| format!("g{i:03}");
    let members: Vec<String> = (0..200)
        .map(|i| stable_in(&mut h, &group(i), i as i64))
        .collect();
    // (The harness's joins and syncs are not followed by the question.)
    assert_eq!(h.groups.next_deadline(), Some(10_000));
    for (i, id) in members.iter().enumerate() {
        assert_eq!(h.groups.heartbeat(&group(i), 1, id, None, 5_000), Ok(()));
        assert_eq!(h.groups.groups.touched_since_refresh(), 1, "{}", group(i));
        // The earliest session left unrenewed, then the renewed ones.
        let next = if i + 1 < members.len() {
            10_000 + i as i64 + 1
        } else {
            15_000
        };
        assert_eq!(h.groups.next_deadline(), Some(next));
        assert_eq!(h.groups.groups.touched_since_refresh(), 0, "{}", group(i));
    }
}
