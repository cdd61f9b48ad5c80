//! Readiness and quiescence waits (`Cluster::wait_for_group`, `wait_for_lag`,
//! `wait_for_records`) and their long-polls in the control API: each returns once its
//! condition holds while another thread makes it true over the wire, and times out with
//! what it saw when the condition never holds.

mod support;

#[path = "groups/common.rs"]
#[allow(dead_code)]
mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use broker_sim::{GroupState, GroupWait};
use serde_json::Value;

use common::*;
use support::*;

/// Long enough for anything these tests wait for on a loaded machine; a wait that should
/// succeed ends as soon as its condition holds.
const DEADLINE: Duration = Duration::from_secs(30);
/// For waits that must time out.
const SHORT: Duration = Duration::from_millis(150);

#[test]
fn a_group_wait_returns_the_group_once_both_members_synced() {
    let cluster = cluster();
    std::thread::scope(|s| {
        let forming = s.spawn(|| form_group(&cluster, "g", &[&["range"], &["range"]]));
        let group = cluster
            .wait_for_group("g", GroupWait::stable(2), DEADLINE)
            .unwrap();
        assert_eq!(group.state, GroupState::Stable);
        assert_eq!(group.members.len(), 2);
        assert!(
            group.members.iter().all(|m| !m.assignment.is_empty()),
            "{group:?}"
        );
        drop(forming.join().unwrap());
    });
}

#[test]
fn a_group_wait_times_out_saying_what_it_saw() {
    let cluster = cluster();
    let err = cluster
        .wait_for_group("nobody", GroupWait::stable(1), SHORT)
        .unwrap_err();
    assert!(
        err.to_string().contains("the group does not exist"),
        "{err}"
    );

    let _members = form_group(&cluster, "g", &[&["range"], &["range"]]);
    let err = cluster
        .wait_for_group("g", GroupWait::stable(3), SHORT)
        .unwrap_err();
    assert_eq!(err.awaited, "group \"g\" Stable with 3 members");
    assert!(err.seen.starts_with("it is Stable with 2 members"), "{err}");
    // Any number of members, in the state it is in.
    cluster
        .wait_for_group("g", GroupWait::state(GroupState::Stable), SHORT)
        .unwrap();
}

#[test]
fn a_lag_wait_ends_when_the_group_has_committed_everything() {
    let cluster = cluster();
    for value in ["a", "b", "c"] {
        produce(&cluster, "t", 0, batch_of(&[value]));
    }
    commit_standalone(&cluster, "g", &[("t", 0, 1)]);
    let lags = cluster.group_lag("g", Some("t")).unwrap();
    assert_eq!(lags.len(), 3, "every partition of the topic: {lags:?}");
    assert_eq!(
        (lags[0].committed, lags[0].end_offset, lags[0].lag),
        (Some(1), 3, 2)
    );
    assert_eq!((lags[1].committed, lags[1].lag), (None, 0));
    let err = cluster.wait_for_lag("g", Some("t"), 0, SHORT).unwrap_err();
    assert_eq!(err.seen, "its lag is 2");

    std::thread::scope(|s| {
        s.spawn(|| commit_standalone(&cluster, "g", &[("t", 0, 3)]));
        let lags = cluster.wait_for_lag("g", Some("t"), 0, DEADLINE).unwrap();
        assert_eq!(lags[0].committed, Some(3));
        assert!(lags.iter().all(|l| l.lag == 0), "{lags:?}");
    });
    // Without a topic: only what the group committed to.
    assert_eq!(cluster.group_lag("g", None).unwrap().len(), 1);
    assert!(cluster.group_lag("nobody", None).is_none());
}

#[test]
fn a_records_wait_returns_the_records_once_enough_arrived() {
    let cluster = cluster();
    std::thread::scope(|s| {
        s.spawn(|| {
            for value in ["a", "b", "c", "d"] {
                produce(&cluster, "t", 1, batch_of(&[value]));
            }
        });
        let records = cluster.wait_for_records("t", 4, DEADLINE).unwrap();
        let values: Vec<_> = records.iter().filter_map(|r| r.value_str()).collect();
        assert_eq!(values, ["a", "b", "c", "d"]);
    });
    let err = cluster.wait_for_records("t", 5, SHORT).unwrap_err();
    assert_eq!(err.seen, "it holds 4");
    let err = cluster
        .wait_for_partition_records("t", Some(0), 1, SHORT)
        .unwrap_err();
    assert_eq!(err.seen, "it holds 0");
    let err = cluster.wait_for_records("absent", 1, SHORT).unwrap_err();
    assert!(err.seen.contains("does not exist"), "{err}");
}

// The long-polls, through an in-process control API server.

/// A GET over a plain socket (one request per connection): the status and the JSON body.
fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEADLINE * 2)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn the_long_polls_answer_when_their_condition_holds_and_408_when_it_does_not() {
    let cluster = Arc::new(cluster());
    let addr = serve_control(cluster.clone());
    std::thread::scope(|s| {
        let forming = s.spawn(|| form_group(&cluster, "g", &[&["range"]]));
        let (status, group) = get(addr, "/v1/groups/g?wait=stable&members=1&timeout_ms=30000");
        assert_eq!(status, 200, "{group}");
        assert_eq!(group["state"], "Stable");
        assert_eq!(group["members"].as_array().unwrap().len(), 1);
        drop(forming.join().unwrap());
    });

    let (status, body) = get(addr, "/v1/groups/g?wait=Stable&members=2&timeout_ms=100");
    assert_eq!(status, 408, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Stable with 2 members")
    );
    assert_eq!(
        body["state"]["state"], "Stable",
        "the group as it is: {body}"
    );

    produce(&cluster, "t", 2, batch_of(&["x", "y"]));
    let (status, lag) = get(addr, "/v1/groups/g/lag?topic=t");
    assert_eq!(status, 200, "{lag}");
    assert_eq!(lag["total_lag"], 2);
    assert_eq!(lag["partitions"][2]["end_offset"], 2);
    let (status, body) = get(addr, "/v1/groups/g/lag?topic=t&wait=0&timeout_ms=100");
    assert_eq!(
        (status, &body["state"]["total_lag"]),
        (408, &Value::from(2))
    );

    let (status, records) = get(
        addr,
        "/v1/topics/t/records?partition=2&wait=2&timeout_ms=100",
    );
    assert_eq!(status, 200, "{records}");
    assert_eq!(records["records"].as_array().unwrap().len(), 2);
    let (status, body) = get(addr, "/v1/topics/t/records?wait=3&timeout_ms=100");
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["state"]["seen"], "it holds 2");

    for bad in [
        "/v1/groups/g?wait=Settled",
        "/v1/groups/g?members=2",
        "/v1/groups/g?wait=Stable&timeout_ms=soon",
        "/v1/groups/g?wait=Stable&timeout_ms=9999999",
        "/v1/groups/g/lag?wait=-",
        "/v1/topics/t/records?timeout_ms=5",
    ] {
        let (status, body) = get(addr, bad);
        assert_eq!(status, 400, "{bad}: {body}");
    }
}
