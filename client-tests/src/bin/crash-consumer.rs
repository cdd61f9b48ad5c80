//! A group consumer in its own process, for tests that need a member to die the way a real
//! service does: SIGKILLed, so it never sends LeaveGroup and the kernel just closes its
//! sockets (dropping an rdkafka consumer in-process always leaves the group cleanly).
//!
//! Usage: `crash-consumer BOOTSTRAP GROUP TOPIC CLIENT_ID SESSION_MS COMMIT_BELOW`, where
//! SESSION_MS `consumer` joins with the new group protocol (KIP-848), whose session the
//! broker sets. It joins
//! GROUP, "processes" and commits every record below offset COMMIT_BELOW in each
//! partition it is assigned, prints [`CRASH_CONSUMER_COMMITTED`] once all of them are
//! committed, and keeps polling (fetching, never committing more) until killed. It exits
//! by itself when its parent goes away (its stdin closes), so a failed test cannot leave
//! it running. Tests start it with [`client_tests::ChildProcess`].

use std::collections::BTreeMap;
use std::time::Duration;

use client_tests::{
    CRASH_CONSUMER_COMMITTED, GroupMember, exit_when_parent_dies, group_consumer_config,
};
use rdkafka::Message;
use rdkafka::message::OwnedMessage;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bootstrap, group, topic, client_id, session_ms, commit_below] = &args[..] else {
        eprintln!("usage: crash-consumer BOOTSTRAP GROUP TOPIC CLIENT_ID SESSION_MS COMMIT_BELOW");
        std::process::exit(2);
    };
    let commit_below: i64 = commit_below.parse().expect("COMMIT_BELOW is a number");
    exit_when_parent_dies();

    let mut config = group_consumer_config(bootstrap, group);
    if session_ms == "consumer" {
        config
            .remove("session.timeout.ms")
            .remove("heartbeat.interval.ms")
            .set("group.protocol", "consumer");
    } else {
        config.set("session.timeout.ms", session_ms);
    }
    let mut member = GroupMember::subscribe(&config, client_id, &[topic.as_str()]);
    let mut next_to_read: BTreeMap<i32, i64> = BTreeMap::new();
    let mut reported = false;
    loop {
        // Blocks up to 100 ms for messages: this is the consumer's poll loop.
        let fresh = member
            .try_pump(Duration::from_millis(100))
            .expect("crash-consumer polls");
        let processed: Vec<OwnedMessage> = fresh
            .into_iter()
            .filter(|m| m.offset() < commit_below)
            .collect();
        member
            .commit_after(&processed)
            .expect("crash-consumer commits");
        for m in &processed {
            next_to_read.insert(m.partition(), m.offset() + 1);
        }
        let assignment = member.assignment();
        let all_committed = !assignment.is_empty()
            && assignment
                .iter()
                .all(|(_, p)| next_to_read.get(p) == Some(&commit_below));
        if all_committed && !reported {
            println!("{CRASH_CONSUMER_COMMITTED}");
            reported = true;
        }
    }
}
