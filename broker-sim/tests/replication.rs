//! Replication and broker lifecycle, seen from the wire: stopping, starting and isolating
//! brokers, leader elections (clean and unclean), the ISR and `min.insync.replicas`,
//! replication lag and the manual clock, and coordinators moving off a stopped broker.

mod support;

use std::net::TcpStream;
use std::time::Duration;

use broker_sim::{Cluster, GroupState};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    DescribeClusterRequest, FindCoordinatorRequest, MetadataResponse, ProduceRequest,
};
use support::*;

/// The start of manual-clock clusters in these tests: just after the test records'
/// timestamps, so that they are recent (retention would delete week-old records).
const T0: i64 = BASE_TIMESTAMP + 1_000;

fn metadata_from(cluster: &Cluster, broker: i32, topic: &str) -> MetadataResponse {
    metadata(&mut Conn::to_broker(cluster, broker), 12, &[topic])
}

fn produce_with_acks(
    cluster: &Cluster,
    topic: &str,
    partition: i32,
    acks: i16,
    value: &str,
) -> (i16, i64) {
    let request = produce_request(topic, partition, batch_of(&[value])).with_acks(acks);
    let response = Conn::to_leader(cluster, topic, partition).send(9, &request);
    let p = only_partition(&response);
    (p.error_code, p.base_offset)
}

fn live_broker(cluster: &Cluster) -> i32 {
    cluster
        .broker_status()
        .into_iter()
        .find(|b| b.up && !b.isolated)
        .expect("a broker is up")
        .id
}

#[test]
fn stopping_the_leader_elects_an_in_sync_replica_with_a_new_epoch_and_keeps_every_record() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    for i in 0..5 {
        produce(&cluster, "t", 0, batch_of(&[&format!("r{i}")]));
    }
    let before = cluster.partition("t", 0).unwrap();
    assert_eq!(before.isr.len(), 3);
    let old_leader = before.leader;
    let old_addr = broker_addr(&cluster, old_leader);
    let mut open = Conn::to_broker(&cluster, old_leader);

    cluster.stop_broker(old_leader).unwrap();

    let after = cluster.partition("t", 0).unwrap();
    assert_ne!(after.leader, old_leader);
    assert!(before.isr.contains(&after.leader));
    assert_eq!(after.leader_epoch, before.leader_epoch + 1);
    assert!(!after.isr.contains(&old_leader), "{after:?}");
    assert_eq!(after.high_watermark, 5);
    // The crashed broker's connections are reset and its port refuses.
    open.assert_closed("a connection to a stopped broker");
    match TcpStream::connect(old_addr) {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        Ok(_) => panic!("a stopped broker's port still accepts connections"),
    }
    // Metadata lists the live brokers only, the new leader, and the offline replica.
    let md = metadata_from(&cluster, after.leader, "t");
    assert!(md.brokers.iter().all(|b| b.node_id.0 != old_leader));
    assert_eq!(md.brokers.len(), 2);
    let p = &md.topics[0].partitions[0];
    assert_eq!(p.leader_id.0, after.leader);
    assert_eq!(p.leader_epoch, after.leader_epoch);
    assert_eq!(
        p.offline_replicas.iter().map(|b| b.0).collect::<Vec<_>>(),
        vec![old_leader]
    );
    // Every record is still there, and the new leader takes writes.
    assert_eq!(produce(&cluster, "t", 0, batch_of(&["after"])), 5);
    let values: Vec<_> = cluster
        .records("t")
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(values, ["r0", "r1", "r2", "r3", "r4", "after"]);
}

#[test]
fn a_started_broker_listens_on_its_old_port_catches_up_and_rejoins_the_isr() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let follower = follower(&cluster, "t", 0);
    let addr = broker_addr(&cluster, follower);
    cluster.stop_broker(follower).unwrap();
    produce(&cluster, "t", 0, batch_of(&["while it was down"]));
    assert!(!cluster.partition("t", 0).unwrap().isr.contains(&follower));

    cluster.start_broker(follower).unwrap();

    let p = cluster.partition("t", 0).unwrap();
    assert!(p.isr.contains(&follower), "{p:?}");
    assert_eq!(broker_addr(&cluster, follower), addr);
    let md = metadata(&mut Conn::connect(addr), 12, &["t"]);
    assert_eq!(md.brokers.len(), 3);
    assert!(cluster.broker_status().iter().all(|b| b.up));
    // Starting a running broker, or stopping one twice, is refused with a reason.
    assert!(cluster.start_broker(follower).is_err());
    cluster.stop_broker(follower).unwrap();
    assert!(cluster.stop_broker(follower).is_err());
    assert!(cluster.stop_broker(42).is_err());
}

#[test]
fn with_the_last_in_sync_replica_down_the_partition_has_no_leader_until_it_returns() {
    let cluster = Cluster::builder()
        .brokers(2)
        .default_replication_factor(1)
        .topic("t", 1)
        .start()
        .unwrap();
    produce(&cluster, "t", 0, batch_of(&["kept"]));
    let only = cluster.partition("t", 0).unwrap().leader;
    let other = if only == 1 { 2 } else { 1 };
    cluster.stop_broker(only).unwrap();

    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.leader, -1);
    assert_eq!(p.isr, vec![only], "KRaft keeps the last in-sync replica");
    let md = metadata_from(&cluster, other, "t");
    assert_error(
        md.topics[0].partitions[0].error_code,
        ResponseError::LeaderNotAvailable,
        "metadata of a leaderless partition",
    );
    let response =
        Conn::to_broker(&cluster, other).send(9, &produce_request("t", 0, batch_of(&["x"])));
    assert_error(
        only_partition(&response).error_code,
        ResponseError::NotLeaderOrFollower,
        "produce to a leaderless partition",
    );

    cluster.start_broker(only).unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.leader, only);
    assert_eq!(cluster.records("t")[0].value_str(), Some("kept"));
}

#[test]
fn acks_all_needs_min_insync_replicas_and_works_again_once_a_broker_returns() {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic_with_configs("t", 1, &[("min.insync.replicas", "2")])
        .start()
        .unwrap();
    let leader = cluster.partition("t", 0).unwrap().leader;
    let followers: Vec<i32> = (1..=3).filter(|&b| b != leader).collect();
    cluster.stop_broker(followers[0]).unwrap();
    assert_eq!(produce_with_acks(&cluster, "t", 0, -1, "two in sync").0, 0);
    cluster.stop_broker(followers[1]).unwrap();

    let (code, _) = produce_with_acks(&cluster, "t", 0, -1, "refused");
    assert_error(
        code,
        ResponseError::NotEnoughReplicas,
        "acks=all with ISR 1 < 2",
    );
    // acks=1 is not held to min.insync.replicas.
    assert_eq!(produce_with_acks(&cluster, "t", 0, 1, "acks=1").0, 0);

    cluster.start_broker(followers[1]).unwrap();
    let (code, offset) = produce_with_acks(&cluster, "t", 0, -1, "accepted");
    assert_no_error(code, "acks=all once the ISR is back to 2");
    assert_eq!(offset, 2);
}

#[test]
fn min_insync_replicas_can_be_set_for_the_whole_cluster() {
    let cluster = Cluster::builder()
        .brokers(2)
        .min_insync_replicas(2)
        .topic("t", 1)
        .start()
        .unwrap();
    let follower = follower(&cluster, "t", 0);
    cluster.stop_broker(follower).unwrap();
    let (code, _) = produce_with_acks(&cluster, "t", 0, -1, "refused");
    assert_error(
        code,
        ResponseError::NotEnoughReplicas,
        "broker-level min.insync.replicas",
    );
}

/// A follower whose copying is paused leaves the ISR after `replica.lag.time.max.ms`;
/// the leader keeps taking acks=1 writes the follower never copies.
fn lagging_follower_cluster(unclean: bool) -> (Cluster, i32, i32) {
    let cluster = Cluster::builder()
        .brokers(2)
        .manual_clock(T0)
        .replica_lag_time_max(Duration::from_secs(10))
        .topic_with_configs(
            "t",
            1,
            &[(
                "unclean.leader.election.enable",
                if unclean { "true" } else { "false" },
            )],
        )
        .start()
        .unwrap();
    produce(&cluster, "t", 0, batch_of(&["copied"]));
    let leader = cluster.partition("t", 0).unwrap().leader;
    let follower = follower(&cluster, "t", 0);
    cluster.pause_replication(follower).unwrap();
    cluster.advance(Duration::from_secs(5));
    assert_eq!(
        cluster.partition("t", 0).unwrap().isr.len(),
        2,
        "within the lag limit"
    );
    cluster.advance(Duration::from_secs(6));
    assert_eq!(cluster.partition("t", 0).unwrap().isr, vec![leader]);
    assert_eq!(produce_with_acks(&cluster, "t", 0, 1, "never copied").0, 0);
    (cluster, leader, follower)
}

#[test]
fn a_stuck_follower_leaves_the_isr_and_clean_election_will_not_pick_it() {
    let (cluster, leader, follower) = lagging_follower_cluster(false);
    cluster.stop_broker(leader).unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.leader, -1, "no in-sync replica is up: {p:?}");
    assert_eq!(p.isr, vec![leader]);
    // When the leader returns, it leads again and nothing was lost.
    cluster.start_broker(leader).unwrap();
    assert_eq!(cluster.partition("t", 0).unwrap().leader, leader);
    assert_eq!(cluster.records("t").len(), 2);
    // The follower catches up once resumed, and rejoins the ISR.
    cluster.resume_replication(follower).unwrap();
    assert_eq!(cluster.partition("t", 0).unwrap().isr.len(), 2);
}

#[test]
fn unclean_election_lets_an_out_of_sync_replica_lead_and_loses_what_it_never_copied() {
    let (cluster, leader, follower) = lagging_follower_cluster(true);
    cluster.stop_broker(leader).unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.leader, follower);
    assert_eq!(p.isr, vec![follower]);
    assert_eq!(p.high_watermark, 1);
    let values: Vec<_> = cluster
        .records("t")
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(values, ["copied"], "the uncopied acks=1 record is lost");
    // The next write reuses the lost offset, as in Kafka.
    assert_eq!(produce(&cluster, "t", 0, batch_of(&["new"])), 1);
    // The old leader comes back as a follower and truncates to the new leader's log.
    cluster.start_broker(leader).unwrap();
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.leader, follower);
    assert!(p.isr.contains(&leader));
}

#[test]
fn with_replication_lag_the_high_watermark_and_acks_all_wait_for_the_followers() {
    let cluster = Cluster::builder()
        .brokers(3)
        .manual_clock(T0)
        .replication_lag(Duration::from_millis(100))
        .topic("t", 1)
        .start()
        .unwrap();
    let (code, offset) = produce_with_acks(&cluster, "t", 0, 1, "a");
    assert_no_error(code, "acks=1 with lagging followers");
    assert_eq!(offset, 0);
    assert_eq!(cluster.partition("t", 0).unwrap().high_watermark, 0);
    // A consumer sees nothing below the high watermark yet.
    let mut conn = Conn::to_leader(&cluster, "t", 0);
    let fetched = conn.send(12, &fetch_request("t", 0, 0));
    let data = &fetched.responses[0].partitions[0];
    assert_eq!(data.high_watermark, 0);
    assert!(data.records.as_ref().is_none_or(|r| r.is_empty()));

    // An acks=all write is answered only once the followers copied it.
    let mut waiting = Conn::to_leader(&cluster, "t", 0);
    let request: ProduceRequest = produce_request("t", 0, batch_of(&["b"])).with_acks(-1);
    let correlation_id = waiting.write(9, &request);
    assert!(!waiting.answer_pending(Duration::from_millis(200)));
    cluster.advance(Duration::from_millis(100));
    let response = waiting.read::<ProduceRequest>(9, correlation_id).unwrap();
    assert_no_error(
        only_partition(&response).error_code,
        "acks=all after the lag",
    );
    assert_eq!(cluster.partition("t", 0).unwrap().high_watermark, 2);
}

#[test]
fn acks_all_times_out_when_the_followers_never_copy() {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().unwrap();
    let follower = follower(&cluster, "t", 0);
    cluster.pause_replication(follower).unwrap();
    let request = produce_request("t", 0, batch_of(&["stuck"]))
        .with_acks(-1)
        .with_timeout_ms(50);
    let response = Conn::to_leader(&cluster, "t", 0).send(9, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::RequestTimedOut,
        "acks=all whose ISR never copies",
    );
    // The write itself happened (Kafka does not undo it), but is not visible yet.
    assert_eq!(cluster.partition("t", 0).unwrap().high_watermark, 0);
    cluster.resume_replication(follower).unwrap();
    assert_eq!(cluster.partition("t", 0).unwrap().high_watermark, 1);
}

#[test]
fn moving_a_leader_and_preferred_election_bump_the_epoch_and_stamp_new_batches() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let p = cluster.partition("t", 0).unwrap();
    let preferred = p.replicas[0];
    assert_eq!(p.leader, preferred);
    let target = p.replicas[1];
    cluster.move_leader("t", 0, target).unwrap();
    let moved = cluster.partition("t", 0).unwrap();
    assert_eq!((moved.leader, moved.leader_epoch), (target, 1));
    // The old leader refuses writes and names the new one (KIP-951).
    let response =
        Conn::to_broker(&cluster, preferred).send(10, &produce_request("t", 0, batch_of(&["x"])));
    let answer = only_partition(&response);
    assert_error(
        answer.error_code,
        ResponseError::NotLeaderOrFollower,
        "old leader",
    );
    assert_eq!(answer.current_leader.leader_id.0, target);
    assert_eq!(answer.current_leader.leader_epoch, 1);
    // Batches written now carry the new epoch.
    produce(&cluster, "t", 0, batch_of(&["epoch 1"]));
    let fetched = Conn::to_leader(&cluster, "t", 0).send(12, &fetch_request("t", 0, 0));
    let records = fetched.responses[0].partitions[0].records.clone().unwrap();
    let batch = complete_batches(&records).remove(0);
    assert_eq!(i32::from_be_bytes(batch[12..16].try_into().unwrap()), 1);
    // An out-of-sync or unknown target is refused.
    assert!(cluster.move_leader("t", 0, 99).is_err());
    assert!(cluster.move_leader("nope", 0, target).is_err());

    assert_eq!(
        cluster.elect_preferred_leaders(),
        vec![("t".to_string(), 0)]
    );
    let back = cluster.partition("t", 0).unwrap();
    assert_eq!((back.leader, back.leader_epoch), (preferred, 2));
    assert!(cluster.elect_preferred_leaders().is_empty());
}

#[test]
fn an_isolated_broker_answers_nothing_until_healed_while_the_cluster_fences_it() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let leader = cluster.partition("t", 0).unwrap().leader;
    let mut conn = Conn::to_broker(&cluster, leader);
    cluster.isolate_broker(leader).unwrap();

    let status = cluster.broker_status();
    let me = status.iter().find(|b| b.id == leader).unwrap();
    assert!(me.up && me.isolated);
    assert_ne!(
        cluster.partition("t", 0).unwrap().leader,
        leader,
        "leadership moved away"
    );
    // Requests are neither answered nor refused: the connection stays open.
    let correlation_id = conn.write(12, &metadata_request(&["t"]));
    assert!(!conn.answer_pending(Duration::from_millis(200)));
    let mut fresh = Conn::to_broker(&cluster, leader);
    let fresh_id = fresh.write(12, &metadata_request(&["t"]));
    assert!(!fresh.answer_pending(Duration::from_millis(100)));

    cluster.heal_broker(leader).unwrap();
    let held = conn
        .read::<kafka_protocol::messages::MetadataRequest>(12, correlation_id)
        .unwrap();
    assert_eq!(held.brokers.len(), 3);
    fresh
        .read::<kafka_protocol::messages::MetadataRequest>(12, fresh_id)
        .unwrap();
    assert!(cluster.partition("t", 0).unwrap().isr.contains(&leader));
}

#[test]
fn a_group_coordinator_moves_off_a_stopped_broker_and_keeps_the_group() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let group = "moving-group";
    let mut conn = Conn::to_coordinator(&cluster, group);
    let joined = conn.join(5, join_request(group, "", &["range"]));
    assert_no_error(joined.error_code, "join");
    let old = coordinator(&cluster, group);
    cluster.stop_broker(old).unwrap();

    let ask = FindCoordinatorRequest::default()
        .with_key_type(0)
        .with_key(str_bytes(group));
    let answer = Conn::to_broker(&cluster, live_broker(&cluster)).send(3, &ask);
    assert_no_error(answer.error_code, "FindCoordinator after the stop");
    let new = answer.node_id.0;
    assert_ne!(new, old);
    // The member carries on with the new coordinator: same generation, same member id.
    let heartbeat = heartbeat_request(group, joined.generation_id, &joined.member_id);
    let response = Conn::to_broker(&cluster, new).send(3, &heartbeat);
    assert_ne!(response.error_code, ResponseError::UnknownMemberId.code());
    assert_ne!(response.error_code, ResponseError::NotCoordinator.code());
    assert_eq!(cluster.group(group).unwrap().members.len(), 1);
}

/// Joins and syncs `group`'s only member, with a session of 10 s.
fn stable_member(cluster: &Cluster, group: &str) {
    let mut conn = Conn::to_coordinator(cluster, group);
    let mut request = join_request(group, "", &["range"]);
    request.session_timeout_ms = 10_000;
    let joined = conn.join(5, request);
    assert_no_error(joined.error_code, "join");
    let sync = conn.send(
        3,
        &sync_request(group, joined.generation_id, &joined.member_id, &[]),
    );
    assert_no_error(sync.error_code, "sync");
}

#[test]
fn a_group_whose_coordinator_moves_gives_its_members_a_fresh_session() {
    // Kafka's new coordinator loads the group and cannot know when members were last
    // heard of, so each gets a whole session from the move.
    let cluster = Cluster::builder()
        .brokers(3)
        .manual_clock(T0)
        .topic("t", 1)
        .start()
        .unwrap();
    let group = "moved-sessions";
    stable_member(&cluster, group);

    cluster.advance(Duration::from_millis(9_000));
    cluster.stop_broker(coordinator(&cluster, group)).unwrap();
    cluster.advance(Duration::from_millis(9_999));
    assert_eq!(
        cluster.group(group).unwrap().members.len(),
        1,
        "19 s after its last heartbeat, 10 s less 1 ms after the move"
    );
    cluster.advance(Duration::from_millis(1));
    assert!(cluster.group(group).unwrap().members.is_empty());
}

#[test]
fn with_every_broker_down_but_one_describe_cluster_lists_fenced_brokers_on_request() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    cluster.stop_broker(2).unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    let live = conn.send(1, &DescribeClusterRequest::default());
    assert_eq!(live.brokers.len(), 2);
    let all = conn.send(
        2,
        &DescribeClusterRequest::default().with_include_fenced_brokers(true),
    );
    assert_eq!(all.brokers.len(), 3);
    assert!(
        all.brokers
            .iter()
            .any(|b| b.broker_id.0 == 2 && b.is_fenced)
    );
    assert_eq!(cluster.controller_id(), 1);
    cluster.stop_broker(1).unwrap();
    assert_eq!(cluster.controller_id(), 3);
}

#[test]
fn the_manual_clock_expires_a_session_only_when_advanced() {
    let cluster = Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .topic("t", 1)
        .start()
        .unwrap();
    let group = "clocked";
    stable_member(&cluster, group);
    assert_eq!(cluster.now_ms(), T0);

    cluster.advance(Duration::from_millis(9_999));
    assert_eq!(cluster.group(group).unwrap().members.len(), 1);
    cluster.advance(Duration::from_millis(1));
    let g = cluster.group(group).unwrap();
    assert!(g.members.is_empty(), "{g:?}");
    assert_eq!(g.state, GroupState::Empty);
    assert_eq!(cluster.now_ms(), T0 + 10_000);
}

#[test]
fn a_long_poll_fetch_on_a_manual_clock_is_answered_when_the_clock_passes_its_wait() {
    let cluster = Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .topic("t", 1)
        .start()
        .unwrap();
    let mut conn = Conn::to_leader(&cluster, "t", 0);
    let request = fetch_request("t", 0, 0)
        .with_max_wait_ms(60_000)
        .with_min_bytes(1);
    let correlation_id = conn.write(12, &request);
    assert!(!conn.answer_pending(Duration::from_millis(100)));
    cluster.advance(Duration::from_secs(60));
    let response = conn
        .read::<kafka_protocol::messages::FetchRequest>(12, correlation_id)
        .unwrap();
    assert_no_error(
        response.responses[0].partitions[0].error_code,
        "empty long poll",
    );
}
