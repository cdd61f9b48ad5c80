//! Committed offsets: OffsetCommit (standalone and by members), OffsetFetch (one group,
//! several, all topics) and OffsetDelete.

use broker_sim::GroupState;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::OffsetFetchRequest;

use crate::common::*;
use crate::support::*;

// OffsetCommit and OffsetFetch.

#[test]
fn standalone_offset_commit_creates_an_empty_group_and_stores_the_offset() {
    let cluster = cluster();
    let group = "g-standalone";
    let request = commit_request(group, -1, "", &[("t", 0, 42)], Some("checkpoint"), 7);
    let response = commit(&cluster, 9, &request);
    assert_eq!(
        commit_errors(&response),
        vec![("t".to_string(), 0, 0)],
        "standalone commit"
    );

    let info = cluster.group(group).expect("the commit created the group");
    assert_eq!(info.state, GroupState::Empty);
    assert!(info.members.is_empty());
    assert_eq!(info.protocol_type, "");
    assert_eq!(info.offsets.len(), 1, "{:?}", info.offsets);
    let o = &info.offsets[0];
    assert_eq!((o.topic.as_str(), o.partition, o.offset), ("t", 0, 42));
    assert_eq!(o.metadata.as_deref(), Some("checkpoint"));

    let expected = (42, 7, Some("checkpoint".to_string()), 0);
    assert_eq!(
        fetch_one(&cluster, group, "t", 0),
        expected,
        "OffsetFetch v9"
    );
    for version in [1, 5, 7] {
        let request = offset_fetch_request(version, group, Some(&[("t", &[0])]));
        let response = Conn::to_coordinator(&cluster, group).send(version, &request);
        let got = fetched(version, &response);
        // The leader epoch is on the wire from v5.
        let epoch = if version >= 5 { 7 } else { -1 };
        assert_eq!(
            got,
            vec![(
                ("t".to_string(), 0),
                (42, epoch, Some("checkpoint".into()), 0)
            )],
            "OffsetFetch v{version}"
        );
    }
}

#[test]
fn offset_commit_without_metadata_is_fetched_as_empty_metadata() {
    let cluster = cluster();
    let request = commit_request("g-no-metadata", -1, "", &[("t", 1, 5)], None, -1);
    let response = commit(&cluster, 9, &request);
    assert_no_error(commit_errors(&response)[0].2, "commit with null metadata");
    assert_eq!(
        fetch_one(&cluster, "g-no-metadata", "t", 1),
        (5, -1, Some(String::new()), 0)
    );
}

#[test]
fn offset_fetch_of_unknown_partitions_and_groups_is_minus_one_without_error() {
    let cluster = cluster();
    commit_standalone(&cluster, "g-fetch-unknown", &[("t", 0, 3)]);
    assert_eq!(fetch_one(&cluster, "g-fetch-unknown", "t", 1), no_offset());
    assert_eq!(fetch_one(&cluster, "g-fetch-unknown", "u", 0), no_offset());
    assert_eq!(
        fetch_one(&cluster, "g-fetch-unknown", "no-such-topic", 0),
        no_offset()
    );
    assert_eq!(fetch_one(&cluster, "g-no-such-group", "t", 0), no_offset());
    assert!(
        cluster.group("g-no-such-group").is_none(),
        "an OffsetFetch creates no group"
    );

    let request = offset_fetch_request(5, "g-no-such-group", Some(&[("t", &[0, 1])]));
    let response = Conn::to_coordinator(&cluster, "g-no-such-group").send(5, &request);
    let got = fetched(5, &response);
    assert_eq!(got.len(), 2, "{got:?}");
    for (tp, offset) in got {
        assert_eq!(offset, no_offset(), "v5 {tp:?}");
    }
}

#[test]
fn offset_commit_to_an_unknown_topic_or_partition_is_unknown_topic_or_partition() {
    let cluster = cluster();
    let group = "g-commit-unknown-topic";
    let request = commit_request(
        group,
        -1,
        "",
        &[("no-such-topic", 0, 1), ("t", 99, 2), ("t", 0, 3)],
        None,
        -1,
    );
    let response = commit(&cluster, 9, &request);
    let unknown = ResponseError::UnknownTopicOrPartition.code();
    let mut errors = commit_errors(&response);
    errors.sort();
    assert_eq!(
        errors,
        vec![
            ("no-such-topic".to_string(), 0, unknown),
            ("t".to_string(), 0, 0),
            ("t".to_string(), 99, unknown),
        ]
    );
    assert_eq!(fetch_one(&cluster, group, "no-such-topic", 0), no_offset());
    assert_eq!(fetch_one(&cluster, group, "t", 99), no_offset());
    assert_eq!(
        fetch_one(&cluster, group, "t", 0).0,
        3,
        "the known partition is stored"
    );
}

/// Kafka checks topics and partitions in `KafkaApis` before the request reaches the group
/// coordinator, and answers at once when none is known: no group is created, the group's
/// own refusals (and coordinator ownership) are never consulted.
#[test]
fn offset_commit_of_only_unknown_partitions_never_reaches_the_coordinator() {
    let cluster = cluster();
    let unknown = ResponseError::UnknownTopicOrPartition.code();
    let only_unknown = [("no-such-topic", 0, 1), ("t", 99, 1)];
    let expected = vec![
        ("no-such-topic".to_string(), 0, unknown),
        ("t".to_string(), 99, unknown),
    ];

    let group = "g-commit-only-unknown";
    let response = commit(
        &cluster,
        9,
        &commit_request(group, -1, "", &only_unknown, None, -1),
    );
    assert_eq!(commit_errors(&response), expected, "standalone commit");
    assert!(
        cluster.group(group).is_none(),
        "a commit of only unknown partitions creates no group"
    );

    let busy = "g-commit-only-unknown-busy";
    let _member = stable_member(&cluster, busy);
    let response = commit(
        &cluster,
        9,
        &commit_request(busy, -1, "", &only_unknown, None, -1),
    );
    assert_eq!(
        commit_errors(&response),
        expected,
        "standalone commit to a group with members: the topic check comes first"
    );
    let response = commit(
        &cluster,
        9,
        &commit_request(busy, 7, "m", &only_unknown, None, -1),
    );
    assert_eq!(
        commit_errors(&response),
        expected,
        "commit by an unknown member in a wrong generation: the topic check comes first"
    );

    let mut elsewhere = Conn::to_broker(&cluster, not_coordinator(&cluster, group));
    let response = elsewhere.send(9, &commit_request(group, -1, "", &only_unknown, None, -1));
    assert_eq!(
        commit_errors(&response),
        expected,
        "sent to a broker that does not coordinate the group"
    );
}

#[test]
fn offset_commit_with_a_stale_generation_is_illegal_generation() {
    let cluster = cluster();
    let group = "g-commit-generation";
    let mut member = stable_member(&cluster, group);
    for generation in [0, 2] {
        let request = commit_request(group, generation, &member.id, &[("t", 0, 9)], None, -1);
        let response = member.conn.send(8, &request);
        assert_eq!(
            commit_errors(&response),
            vec![("t".to_string(), 0, ResponseError::IllegalGeneration.code())],
            "commit for generation {generation} in generation 1"
        );
    }
    assert_eq!(
        fetch_one(&cluster, group, "t", 0),
        no_offset(),
        "nothing stored"
    );

    let request = commit_request(group, 1, &member.id, &[("t", 0, 9)], None, -1);
    let response = member.conn.send(8, &request);
    assert_eq!(commit_errors(&response), vec![("t".to_string(), 0, 0)]);
    assert_eq!(fetch_one(&cluster, group, "t", 0).0, 9);
}

#[test]
fn standalone_offset_commit_to_a_group_with_members_is_unknown_member_id() {
    let cluster = cluster();
    let group = "g-commit-standalone-busy";
    let _member = stable_member(&cluster, group);
    let request = commit_request(group, -1, "", &[("t", 0, 9)], None, -1);
    let response = commit(&cluster, 9, &request);
    assert_eq!(
        commit_errors(&response),
        vec![("t".to_string(), 0, ResponseError::UnknownMemberId.code())]
    );
    assert_eq!(
        fetch_one(&cluster, group, "t", 0),
        no_offset(),
        "nothing stored"
    );
}

#[test]
fn offset_fetch_v8_and_later_answers_several_groups_in_one_request() {
    let cluster = cluster();
    let (broker, groups) = groups_on_one_coordinator(&cluster, "g-multi", 3);
    commit_standalone(&cluster, &groups[0], &[("t", 0, 10)]);
    commit_standalone(&cluster, &groups[1], &[("t", 0, 20), ("t", 1, 21)]);
    // groups[2] has no offsets (and does not exist).
    for version in [8, 9] {
        let request = OffsetFetchRequest::default().with_groups(
            groups
                .iter()
                .map(|g| offset_fetch_group(g, Some(&[("t", &[0, 1])])))
                .collect(),
        );
        let response = Conn::to_broker(&cluster, broker).send(version, &request);
        assert_eq!(response.groups.len(), 3, "v{version}: {response:?}");
        let offsets_of = |group: &str| -> Vec<i64> {
            let g = response
                .groups
                .iter()
                .find(|g| g.group_id.as_str() == group)
                .unwrap_or_else(|| panic!("v{version}: no answer for {group}"));
            group_offsets(g).into_iter().map(|(_, f)| f.0).collect()
        };
        assert_eq!(offsets_of(&groups[0]), vec![10, -1], "v{version}");
        assert_eq!(offsets_of(&groups[1]), vec![20, 21], "v{version}");
        assert_eq!(offsets_of(&groups[2]), vec![-1, -1], "v{version}");
    }
}

#[test]
fn offset_fetch_with_null_topics_returns_every_committed_offset() {
    let cluster = cluster();
    let group = "g-fetch-all";
    commit_standalone(&cluster, group, &[("t", 0, 5), ("t", 2, 7), ("u", 0, 9)]);
    for version in [2, 7, 8, 9] {
        let request = offset_fetch_request(version, group, None);
        let response = Conn::to_coordinator(&cluster, group).send(version, &request);
        let mut got: Vec<(String, i32, i64)> = fetched(version, &response)
            .into_iter()
            .map(|((t, p), f)| (t, p, f.0))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("t".to_string(), 0, 5),
                ("t".to_string(), 2, 7),
                ("u".to_string(), 0, 9)
            ],
            "OffsetFetch v{version} of all topics"
        );
    }
    let request = offset_fetch_request(9, "g-no-such-group", None);
    let response = Conn::to_coordinator(&cluster, "g-no-such-group").send(9, &request);
    assert!(fetched(9, &response).is_empty(), "{response:?}");
}

#[test]
fn offset_commit_while_awaiting_sync_is_rebalance_in_progress() {
    let cluster = cluster();
    let group = "g-commit-awaiting-sync";
    let mut member = join_alone(&cluster, group, &["range"]);
    let request = commit_request(group, 1, &member.id, &[("t", 0, 4)], None, -1);
    let response = member.conn.send(9, &request);
    assert_eq!(
        commit_errors(&response),
        vec![(
            "t".to_string(),
            0,
            ResponseError::RebalanceInProgress.code()
        )],
        "commit between JoinGroup and SyncGroup"
    );
    assert_eq!(fetch_one(&cluster, group, "t", 0), no_offset());
}

#[test]
fn member_commit_to_an_unknown_group_is_group_id_not_found_from_v9_and_illegal_generation_before() {
    let cluster = cluster();
    let group = "g-commit-no-group";
    for (version, expected) in [
        (2, ResponseError::IllegalGeneration),
        (8, ResponseError::IllegalGeneration),
        (9, ResponseError::GroupIdNotFound),
    ] {
        let request = commit_request(group, 1, "some-member", &[("t", 0, 4)], None, -1);
        let response = commit(&cluster, version, &request);
        assert_eq!(
            commit_errors(&response),
            vec![("t".to_string(), 0, expected.code())],
            "OffsetCommit v{version} for generation 1 of a group that does not exist"
        );
    }
    assert!(cluster.group(group).is_none());
}

#[test]
fn offset_commit_with_metadata_over_4096_bytes_is_offset_metadata_too_large() {
    let cluster = cluster();
    let group = "g-commit-big-metadata";
    let fits = "m".repeat(4096);
    let too_large = "m".repeat(4097);
    let request = commit_request(group, -1, "", &[("t", 0, 4)], Some(&fits), -1);
    assert_eq!(
        commit_errors(&commit(&cluster, 9, &request)),
        vec![("t".to_string(), 0, 0)]
    );
    let request = commit_request(group, -1, "", &[("t", 1, 5)], Some(&too_large), -1);
    assert_eq!(
        commit_errors(&commit(&cluster, 9, &request)),
        vec![(
            "t".to_string(),
            1,
            ResponseError::OffsetMetadataTooLarge.code()
        )]
    );
    assert_eq!(
        fetch_one(&cluster, group, "t", 0).2.as_deref(),
        Some(fits.as_str())
    );
    assert_eq!(fetch_one(&cluster, group, "t", 1), no_offset());
}

// OffsetDelete.

#[test]
fn offset_delete_on_an_empty_group_removes_the_offsets() {
    let cluster = cluster();
    let group = "g-offset-delete";
    commit_standalone(&cluster, group, &[("t", 0, 5), ("t", 1, 6)]);
    let request = offset_delete_request(group, "t", &[0]);
    let response = Conn::to_coordinator(&cluster, group).send(0, &request);
    assert_no_error(response.error_code, "OffsetDelete, top level");
    assert_eq!(response.topics.len(), 1);
    assert_eq!(response.topics[0].partitions.len(), 1);
    assert_no_error(response.topics[0].partitions[0].error_code, "t-0");
    assert_eq!(fetch_one(&cluster, group, "t", 0), no_offset());
    assert_eq!(fetch_one(&cluster, group, "t", 1).0, 6, "t-1 is kept");
}

#[test]
fn offset_delete_of_an_unknown_group_is_group_id_not_found() {
    let cluster = cluster();
    let request = offset_delete_request("g-no-such-group", "t", &[0]);
    let response = Conn::to_coordinator(&cluster, "g-no-such-group").send(0, &request);
    assert_error(
        response.error_code,
        ResponseError::GroupIdNotFound,
        "OffsetDelete of a group that does not exist",
    );
}

#[test]
fn offset_delete_of_a_topic_a_stable_consumer_group_subscribes_to_is_group_subscribed_to_topic() {
    let cluster = cluster();
    let group = "g-offset-delete-subscribed";
    let mut member = stable_member(&cluster, group);
    let request = commit_request(group, 1, &member.id, &[("t", 0, 5), ("u", 0, 6)], None, -1);
    let response = member.conn.send(9, &request);
    assert!(
        commit_errors(&response).iter().all(|e| e.2 == 0),
        "{response:?}"
    );

    let response = member
        .conn
        .send(0, &offset_delete_request(group, "t", &[0]));
    assert_no_error(response.error_code, "OffsetDelete, top level");
    assert_error(
        response.topics[0].partitions[0].error_code,
        ResponseError::GroupSubscribedToTopic,
        "t-0: every member subscribes to t",
    );
    assert_eq!(fetch_one(&cluster, group, "t", 0).0, 5, "t-0 is kept");

    let response = member
        .conn
        .send(0, &offset_delete_request(group, "u", &[0]));
    assert_no_error(response.error_code, "OffsetDelete, top level");
    assert_no_error(
        response.topics[0].partitions[0].error_code,
        "u-0: nobody subscribes to u",
    );
    assert_eq!(fetch_one(&cluster, group, "u", 0), no_offset());
}
