//! Consumer groups over the wire: the classic group protocol (JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup), committed offsets (OffsetCommit, OffsetFetch, OffsetDelete) and
//! group administration (DescribeGroups, ListGroups, DeleteGroups), each answered as Kafka
//! 4.1's group coordinator answers (`GroupMetadataManager`, `ClassicGroup`,
//! `OffsetMetadataManager` and `KafkaApis` in apache/kafka).
//!
//! Every member has its own connection to the group's coordinator. A JoinGroup that has to
//! wait for other members is written now and read later (`Conn::start_join` and
//! `finish_join`), so no test needs threads; where the order in which the broker sees two
//! connections matters, the test first waits for the group state it needs.
//!
//! The tests are split by concern under `groups/`: `membership` (JoinGroup, static members,
//! SyncGroup, Heartbeat), `departures` (expiry, timeouts, LeaveGroup), `offsets`
//! (OffsetCommit, OffsetFetch, OffsetDelete), `expiration` (offsets.retention.minutes and
//! the removal of empty groups) and `admin` (DescribeGroups, ListGroups, DeleteGroups,
//! NOT_COORDINATOR), with shared helpers in `common`.

mod support;

#[path = "groups/common.rs"]
mod common;

#[path = "groups/admin.rs"]
mod admin;
#[path = "groups/departures.rs"]
mod departures;
#[path = "groups/expiration.rs"]
mod expiration;
#[path = "groups/membership.rs"]
mod membership;
#[path = "groups/offsets.rs"]
mod offsets;
