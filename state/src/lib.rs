//! broker-sim's lower half: the cluster state and the rules Kafka applies to it, with no
//! sockets, no request pipeline and no runtime. `broker-sim` (the crate users depend on)
//! builds its handlers, servers and embedding API on this one and re-exports what users
//! see; nothing here is meant to be used directly.
//!
//! It is a crate of its own only so that a cold build compiles the two side by side (this
//! one's code generation runs while broker-sim's handlers are type-checked). Its modules
//! keep the names and the layering they have in broker-sim (`crate::state`,
//! `crate::error`, …, which broker-sim re-exports under the same paths), bottom up:
//! `error`, `clock`, `rng`, `security`, `registry`; `config`, `storage`, durable mode's
//! files (`--data-dir`); `state`, topics, partition logs, replication, groups,
//! producers, transactions, ACLs; `sasl`, the SASL exchanges over the state's users.

pub mod clock;
pub mod config;
pub mod error;
pub mod registry;
pub mod rng;
pub mod sasl;
pub mod security;
pub mod state;
pub mod storage;
