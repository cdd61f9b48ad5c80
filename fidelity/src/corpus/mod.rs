//! The scenario corpus, one module per area. Each builds its scenarios for every version
//! broker-sim advertises of the APIs it covers; `helpers` has the requests they share.

mod acls;
mod admin;
mod cluster;
mod consumer_groups;
mod groups;
mod helpers;
mod members;
mod misc;
mod operations;
mod quotas;
mod records;
mod sasl;
mod security;
mod transactions;

pub use helpers::corpus_time;

use crate::scenario::Scenario;

pub fn all() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend(misc::scenarios());
    all.extend(admin::scenarios());
    all.extend(records::scenarios());
    all.extend(groups::scenarios());
    all.extend(members::scenarios());
    all.extend(consumer_groups::scenarios());
    all.extend(transactions::scenarios());
    all.extend(operations::scenarios());
    all.extend(cluster::scenarios());
    all.extend(cluster::quorum_scenarios());
    all.extend(cluster::voter_scenarios());
    all.extend(quotas::scenarios());
    all.extend(security::scenarios());
    all.extend(security::scram_scenarios());
    all.extend(sasl::scenarios());
    all.extend(acls::scenarios());
    all
}
