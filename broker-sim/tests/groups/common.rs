//! What the group tests share: the cluster they run against, members on their own
//! connections (joining, syncing, forming whole groups) and the offset and admin requests
//! most tests repeat.

use broker_sim::{Cluster, GroupState};
use bytes::Bytes;
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_response::OffsetFetchResponseGroup;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, JoinGroupRequest, JoinGroupResponse,
    ListGroupsRequest, OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest,
    OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse,
};

use crate::support::*;

pub fn cluster() -> Cluster {
    builder().start().unwrap()
}

pub fn builder() -> broker_sim::ClusterBuilder {
    Cluster::builder()
        .brokers(3)
        .topic("t", 3)
        .topic("u", 1)
        .auto_create_topics(false)
}

// Members.

/// One member of a group, on its own connection to the coordinator.
pub struct Member {
    pub conn: Conn,
    pub group: String,
    pub id: String,
    /// The group.instance.id of a static member.
    pub instance: Option<String>,
    pub protocols: Vec<String>,
    pub rebalance_timeout_ms: i32,
    pub generation: i32,
    pub leader: String,
    pub protocol: String,
    /// What its last SyncGroup gave it.
    pub assignment: Bytes,
}

impl Member {
    pub fn join_request(&self) -> JoinGroupRequest {
        let protocols: Vec<&str> = self.protocols.iter().map(String::as_str).collect();
        join_request(&self.group, &self.id, &protocols)
            .with_group_instance_id(self.instance.as_deref().map(str_bytes))
            .with_rebalance_timeout_ms(self.rebalance_timeout_ms)
    }

    /// Records a successful join's outcome.
    #[track_caller]
    pub fn joined(&mut self, response: &JoinGroupResponse) {
        assert_no_error(response.error_code, &format!("{} joins", self.group));
        self.id = response.member_id.as_str().to_string();
        self.generation = response.generation_id;
        self.leader = response.leader.as_str().to_string();
        self.protocol = response
            .protocol_name
            .as_deref()
            .unwrap_or_default()
            .to_string();
    }

    pub fn is_leader(&self) -> bool {
        self.id == self.leader
    }

    pub fn heartbeat(&mut self, version: i16) -> i16 {
        let request = heartbeat_request(&self.group, self.generation, &self.id)
            .with_group_instance_id(self.instance.as_deref().map(str_bytes));
        self.conn.send(version, &request).error_code
    }

    pub fn sync(&mut self, assignments: &[(&str, Bytes)]) -> SyncGroupResponse {
        let request = sync_request(&self.group, self.generation, &self.id, assignments)
            .with_group_instance_id(self.instance.as_deref().map(str_bytes));
        self.conn.send(5, &request)
    }
}

/// A member that has not joined yet.
pub fn new_member(cluster: &Cluster, group: &str, protocols: &[&str]) -> Member {
    Member {
        conn: Conn::to_coordinator(cluster, group),
        group: group.to_string(),
        id: String::new(),
        instance: None,
        protocols: protocols.iter().map(|p| p.to_string()).collect(),
        rebalance_timeout_ms: REBALANCE_TIMEOUT_MS,
        generation: -1,
        leader: String::new(),
        protocol: String::new(),
        assignment: Bytes::new(),
    }
}

/// The first member of a new group, joined (generation 1, CompletingRebalance).
pub fn join_alone(cluster: &Cluster, group: &str, protocols: &[&str]) -> Member {
    let mut member = new_member(cluster, group, protocols);
    let response = member.conn.join(9, member.join_request());
    member.joined(&response);
    member
}

/// Members joined into one generation, in order of arrival (the first leads), not yet
/// synced. Each newcomer's JoinGroup starts a rebalance that waits for everyone already
/// in; once the group is preparing it, the earlier members rejoin.
pub fn join_all(cluster: &Cluster, group: &str, protocols: &[&[&str]]) -> Vec<Member> {
    join_all_with(cluster, group, protocols, |_| {})
}

/// [`join_all`], with each member set up by `configure` before it joins.
pub fn join_all_with(
    cluster: &Cluster,
    group: &str,
    protocols: &[&[&str]],
    configure: impl Fn(&mut Member),
) -> Vec<Member> {
    let mut members: Vec<Member> = Vec::new();
    for p in protocols {
        let mut newcomer = new_member(cluster, group, p);
        configure(&mut newcomer);
        if members.is_empty() {
            let response = newcomer.conn.join(9, newcomer.join_request());
            newcomer.joined(&response);
            members.push(newcomer);
            continue;
        }
        let mut pending = vec![newcomer.conn.start_join(9, newcomer.join_request())];
        wait_for_state(cluster, group, GroupState::PreparingRebalance);
        for m in &mut members {
            pending.push(m.conn.start_join(9, m.join_request()));
        }
        members.push(newcomer);
        // The newcomer's answer is first in `pending` but last in `members`.
        pending.rotate_left(1);
        for (m, p) in members.iter_mut().zip(pending) {
            let response = m.conn.finish_join(p);
            m.joined(&response);
        }
    }
    let generation = members[0].generation;
    assert!(members.iter().all(|m| m.generation == generation));
    members
}

/// Assignment `i` of a group: partition `i` of "t".
pub fn nth_assignment(i: usize) -> Bytes {
    assignment(&[("t", &[i as i32])])
}

/// Syncs joined members: the leader gives member `i` partition `i` of "t". Followers
/// send first and are answered once the leader has sent the assignments.
pub fn sync_all(members: &mut [Member]) {
    let leader = members
        .iter()
        .position(Member::is_leader)
        .expect("one member leads");
    let assignments: Vec<(String, Bytes)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.clone(), nth_assignment(i)))
        .collect();
    let assignments: Vec<(&str, Bytes)> = assignments
        .iter()
        .map(|(id, a)| (id.as_str(), a.clone()))
        .collect();
    let mut waiting = Vec::new();
    for (i, m) in members.iter_mut().enumerate() {
        if i != leader {
            let request = sync_request(&m.group, m.generation, &m.id, &[]);
            waiting.push((i, m.conn.write(5, &request)));
        }
    }
    let response = members[leader].sync(&assignments);
    assert_no_error(response.error_code, "the leader's SyncGroup");
    members[leader].assignment = response.assignment;
    for (i, correlation_id) in waiting {
        let response = members[i]
            .conn
            .read::<SyncGroupRequest>(5, correlation_id)
            .expect("a follower's SyncGroup is answered");
        assert_no_error(response.error_code, "a follower's SyncGroup");
        members[i].assignment = response.assignment;
    }
}

/// A Stable group of members offering these protocols.
pub fn form_group(cluster: &Cluster, group: &str, protocols: &[&[&str]]) -> Vec<Member> {
    let mut members = join_all(cluster, group, protocols);
    sync_all(&mut members);
    assert_eq!(state(cluster, group), Some(GroupState::Stable));
    members
}

/// A Stable group of one member offering "range"; it was assigned all of "t".
pub fn stable_member(cluster: &Cluster, group: &str) -> Member {
    let mut member = join_alone(cluster, group, &["range"]);
    let all = assignment(&[("t", &[0, 1, 2])]);
    let response = member.sync(&[(&member.id.clone(), all)]);
    assert_no_error(response.error_code, "SyncGroup");
    member.assignment = response.assignment;
    member
}

/// A static member (group.instance.id `instance`), the only one of a Stable group.
pub fn stable_static_member(cluster: &Cluster, group: &str, instance: &str) -> Member {
    let mut member = new_member(cluster, group, &["range"]);
    member.instance = Some(instance.to_string());
    // A static member is never told MEMBER_ID_REQUIRED: `start_join` sends one request.
    let response = member.conn.join(9, member.join_request());
    member.joined(&response);
    let all = assignment(&[("t", &[0, 1, 2])]);
    let response = member.sync(&[(&member.id.clone(), all)]);
    assert_no_error(response.error_code, "SyncGroup");
    member.assignment = response.assignment;
    member
}

pub fn state(cluster: &Cluster, group: &str) -> Option<GroupState> {
    cluster.group(group).map(|g| g.state)
}

/// Waits until `group` is in `expected` (`Cluster::wait_for_group`).
#[track_caller]
pub fn wait_for_state(cluster: &Cluster, group: &str, expected: GroupState) {
    let wait = broker_sim::GroupWait::state(expected);
    if let Err(e) = cluster.wait_for_group(group, wait, READ_DEADLINE) {
        panic!("{e}");
    }
}

/// `n` group ids with the same coordinator, so one request can name them all.
pub fn groups_on_one_coordinator(cluster: &Cluster, prefix: &str, n: usize) -> (i32, Vec<String>) {
    let first = format!("{prefix}-0");
    let broker = coordinator(cluster, &first);
    let groups: Vec<String> = (0..)
        .map(|i| format!("{prefix}-{i}"))
        .filter(|g| coordinator(cluster, g) == broker)
        .take(n)
        .collect();
    (broker, groups)
}

// Offsets.

pub fn commit(
    cluster: &Cluster,
    version: i16,
    request: &OffsetCommitRequest,
) -> OffsetCommitResponse {
    Conn::to_coordinator(cluster, request.group_id.as_str()).send(version, request)
}

/// A standalone commit (generation -1, no member) of `offsets`, asserting no error.
pub fn commit_standalone(cluster: &Cluster, group: &str, offsets: &[(&str, i32, i64)]) {
    let request = commit_request(group, -1, "", offsets, Some("meta"), 1);
    let response = commit(cluster, 9, &request);
    for (topic, partition, code) in commit_errors(&response) {
        assert_no_error(code, &format!("standalone commit of {topic}-{partition}"));
    }
}

/// Every (topic, partition, error code) of a commit answer.
pub fn commit_errors(response: &OffsetCommitResponse) -> Vec<(String, i32, i16)> {
    response
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| {
                (
                    t.name.0.as_str().to_string(),
                    p.partition_index,
                    p.error_code,
                )
            })
        })
        .collect()
}

/// One fetched offset: (offset, leader epoch, metadata, error code).
pub type Fetched = (i64, i32, Option<String>, i16);

/// Every (topic, partition) → fetched offset of one group's OffsetFetch answer, whichever
/// layout the version uses; asserts no group-level error.
pub fn fetched(version: i16, response: &OffsetFetchResponse) -> Vec<((String, i32), Fetched)> {
    let meta = |m: &Option<kafka_protocol::protocol::StrBytes>| m.as_deref().map(str::to_string);
    if version >= 8 {
        assert_eq!(response.groups.len(), 1, "{response:?}");
        return group_offsets(&response.groups[0]);
    }
    if version >= 2 {
        assert_no_error(response.error_code, "OffsetFetch");
    }
    response
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(move |p| {
                (
                    (t.name.0.as_str().to_string(), p.partition_index),
                    (
                        p.committed_offset,
                        p.committed_leader_epoch,
                        meta(&p.metadata),
                        p.error_code,
                    ),
                )
            })
        })
        .collect()
}

pub fn group_offsets(group: &OffsetFetchResponseGroup) -> Vec<((String, i32), Fetched)> {
    assert_no_error(
        group.error_code,
        &format!("OffsetFetch of {:?}", group.group_id),
    );
    group
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(move |p| {
                (
                    (t.name.0.as_str().to_string(), p.partition_index),
                    (
                        p.committed_offset,
                        p.committed_leader_epoch,
                        p.metadata.as_deref().map(str::to_string),
                        p.error_code,
                    ),
                )
            })
        })
        .collect()
}

/// The committed offset of `topic`-`partition` as OffsetFetch v9 reports it.
pub fn fetch_one(cluster: &Cluster, group: &str, topic: &str, partition: i32) -> Fetched {
    let request = offset_fetch_request(9, group, Some(&[(topic, &[partition])]));
    let response = Conn::to_coordinator(cluster, group).send(9, &request);
    let all = fetched(9, &response);
    assert_eq!(all.len(), 1, "{all:?}");
    all[0].1.clone()
}

/// What OffsetFetch answers for a partition without a committed offset.
pub fn no_offset() -> Fetched {
    (-1, -1, Some(String::new()), 0)
}

pub fn describe(cluster: &Cluster, version: i16, group: &str) -> DescribedGroup {
    let request = DescribeGroupsRequest::default().with_groups(vec![group_id(group)]);
    let response = Conn::to_coordinator(cluster, group).send(version, &request);
    assert_eq!(response.groups.len(), 1, "{response:?}");
    response.groups[0].clone()
}

pub fn list_groups(conn: &mut Conn, version: i16, request: ListGroupsRequest) -> Vec<ListedGroup> {
    let response = conn.send(version, &request);
    assert_no_error(response.error_code, &format!("ListGroups v{version}"));
    response.groups
}

pub fn listed_ids(groups: &[ListedGroup]) -> Vec<String> {
    let mut ids: Vec<String> = groups
        .iter()
        .map(|g| g.group_id.as_str().to_string())
        .collect();
    ids.sort();
    ids
}

pub fn delete_groups(cluster: &Cluster, version: i16, group: &str) -> i16 {
    let request = DeleteGroupsRequest::default().with_groups_names(vec![group_id(group)]);
    let response = Conn::to_coordinator(cluster, group).send(version, &request);
    assert_eq!(response.results.len(), 1, "{response:?}");
    assert_eq!(response.results[0].group_id.as_str(), group);
    response.results[0].error_code
}

pub fn offset_delete_request(group: &str, topic: &str, partitions: &[i32]) -> OffsetDeleteRequest {
    OffsetDeleteRequest::default()
        .with_group_id(group_id(group))
        .with_topics(vec![
            OffsetDeleteRequestTopic::default()
                .with_name(name(topic))
                .with_partitions(
                    partitions
                        .iter()
                        .map(|&p| OffsetDeleteRequestPartition::default().with_partition_index(p))
                        .collect(),
                ),
        ])
}
