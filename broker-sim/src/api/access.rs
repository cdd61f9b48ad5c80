//! Authorization as each API describes it: what an API requires ([`Access`], checked by
//! the pipeline's authorization layer), how a refusal picks items out of a request
//! ([`Select`], shared with fault rules), and the checks handlers make themselves
//! (`Ctx::allowed` and friends) where Kafka's rules fit no declaration.

use kafka_protocol::ResponseError;
use kafka_protocol::protocol::StrBytes;

use super::{ALL_GROUP_OPERATIONS, Ctx};
use crate::error::CloseReason;
use crate::faults::rules::Fired;
use crate::state::State;
use crate::state::acls::{CLUSTER_NAME, Operation, Requester, ResourceType};

/// What an API requires of the requester when an authorizer is configured. The
/// pipeline checks, in Kafka's order, the cluster, then the transactional id
/// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED for the whole request), the groups
/// (GROUP_AUTHORIZATION_FAILED, per group where a request names several) and the topics
/// (TOPIC_AUTHORIZATION_FAILED for the refused ones, through [`Api::refuse`]), all from
/// what [`Api::names`] says the request names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Access {
    /// An operation on the cluster, else CLUSTER_AUTHORIZATION_FAILED for the request.
    pub cluster: Option<Operation>,
    pub transactional_id: Option<Operation>,
    pub group: Option<Operation>,
    pub topic: Option<Operation>,
}

impl Access {
    /// Nothing to check here: an API every client may call (ApiVersions, SASL), or one
    /// whose handler checks for itself (`Ctx::allowed`), its rules fitting no pattern
    /// above (Metadata's filtering, CreateTopics' cluster-or-topic CREATE, …).
    pub const OPEN: Access = Access {
        cluster: None,
        transactional_id: None,
        group: None,
        topic: None,
    };
    /// The handler checks for itself; the same as [`Access::OPEN`] for the layer, named
    /// apart so a reader of the API's file knows to look in its handler.
    pub const HANDLER: Access = Access::OPEN;

    pub const fn cluster(op: Operation) -> Access {
        Access {
            cluster: Some(op),
            ..Access::OPEN
        }
    }

    pub const fn group(op: Operation) -> Access {
        Access {
            group: Some(op),
            ..Access::OPEN
        }
    }

    pub const fn topic(op: Operation) -> Access {
        Access {
            topic: Some(op),
            ..Access::OPEN
        }
    }

    pub const fn transactional_id(op: Operation) -> Access {
        Access {
            transactional_id: Some(op),
            ..Access::OPEN
        }
    }

    pub const fn and_group(self, op: Operation) -> Access {
        Access {
            group: Some(op),
            ..self
        }
    }

    pub const fn and_topic(self, op: Operation) -> Access {
        Access {
            topic: Some(op),
            ..self
        }
    }
}

/// What a refusal picks out of a request ([`Api::refuse`]): a fault rule's selectors
/// (`Fired`), or what the authorization layer found the requester may not touch.
pub(crate) trait Select: Send + Sync {
    /// Whether nothing narrower than the request (or, per group, the group) is picked.
    fn whole_request(&self) -> bool;
    /// Whether partitions are picked, not only topics.
    fn selects_partition(&self) -> bool;
    /// Whether partition `partition` of `topic`, named under `group`, is picked.
    fn covers(&self, group: Option<&str>, topic: &str, partition: i32) -> bool;
    /// Whether `topic` (named under `group`) is picked, partitions aside.
    fn covers_topic(&self, group: Option<&str>, topic: &str) -> bool;
    /// Whether `group` is picked (`None`: the request's only group).
    fn covers_group(&self, group: Option<&str>) -> bool;
    /// Why a connection closes when a refusal leaves it no other way to tell the client
    /// (an acks=0 produce).
    fn refused(&self, what: String) -> CloseReason;
}

impl Select for Fired {
    fn whole_request(&self) -> bool {
        Fired::whole_request(self)
    }
    fn selects_partition(&self) -> bool {
        Fired::selects_partition(self)
    }
    fn covers(&self, group: Option<&str>, topic: &str, partition: i32) -> bool {
        Fired::covers(self, group, topic, partition)
    }
    fn covers_topic(&self, group: Option<&str>, topic: &str) -> bool {
        Fired::covers_topic(self, group, topic)
    }
    fn covers_group(&self, group: Option<&str>) -> bool {
        Fired::covers_group(self, group)
    }
    fn refused(&self, what: String) -> CloseReason {
        CloseReason::Fault {
            rule: self.id.0,
            what,
        }
    }
}

impl Ctx<'_> {
    /// The requester as the authorizer sees it: the principal, and the client's address
    /// without Java's leading slash.
    pub fn requester(&self) -> Requester<'_> {
        Requester {
            principal: self.principal,
            host: self.client_host.trim_start_matches('/'),
        }
    }

    /// Whether the requester may perform `op` on the resource `kind` called `name`:
    /// always, when no authorizer is configured.
    pub fn allowed(&self, state: &State, kind: ResourceType, name: &str, op: Operation) -> bool {
        let config = &state.config.authorizer;
        !config.enabled
            || state
                .acls
                .authorize(config, self.requester(), kind, name, op)
    }

    /// Whether the requester may perform `op` on some resource of type `kind` (Kafka's
    /// `authorizeByResourceType`): always, when no authorizer is configured.
    pub fn allowed_on_any(&self, state: &State, kind: ResourceType, op: Operation) -> bool {
        let config = &state.config.authorizer;
        !config.enabled || state.acls.authorize_any(config, self.requester(), kind, op)
    }

    /// [`Ctx::allowed`] on the cluster.
    pub fn allowed_on_cluster(&self, state: &State, op: Operation) -> bool {
        self.allowed(state, ResourceType::Cluster, CLUSTER_NAME, op)
    }

    /// The authorized-operations bit set of a resource: computed from the ACLs when an
    /// authorizer is configured, else `all` (every operation of the type).
    pub fn authorized_operations(
        &self,
        state: &State,
        kind: ResourceType,
        name: &str,
        all: i32,
    ) -> i32 {
        let config = &state.config.authorizer;
        if config.enabled {
            state
                .acls
                .authorized_operations(config, self.requester(), kind, name)
        } else {
            all
        }
    }
}

impl Ctx<'_> {
    /// What the requester may do to the cluster, for the `cluster_authorized_operations`
    /// of Metadata and DescribeCluster: nothing without DESCRIBE on it, as in Kafka.
    pub fn cluster_authorized_operations(&self, state: &State) -> i32 {
        if self.allowed_on_cluster(state, Operation::Describe) {
            self.authorized_operations(
                state,
                ResourceType::Cluster,
                CLUSTER_NAME,
                super::ALL_CLUSTER_OPERATIONS,
            )
        } else {
            0
        }
    }
}

/// Kafka's authorization of a config resource (DescribeConfigs, AlterConfigs,
/// IncrementalAlterConfigs): `op` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on the topic, on
/// the group, or on the cluster for broker, broker-logger and client-metrics resources;
/// the error to answer the resource with when refused.
pub(crate) fn config_resource_refused(
    ctx: &Ctx<'_>,
    state: &State,
    resource_type: i8,
    name: &str,
    op: Operation,
) -> Option<ResponseError> {
    let (allowed, code) = match resource_type {
        2 => (
            ctx.allowed(state, ResourceType::Topic, name, op),
            ResponseError::TopicAuthorizationFailed,
        ),
        32 => (
            ctx.allowed(state, ResourceType::Group, name, op),
            ResponseError::GroupAuthorizationFailed,
        ),
        _ => (
            ctx.allowed_on_cluster(state, op),
            ResponseError::ClusterAuthorizationFailed,
        ),
    };
    (!allowed).then_some(code)
}

/// A described group's `authorized_operations`: when asked for, what the requester may
/// do to it (all of it without an authorizer), else Kafka's "not asked" (`i32::MIN`).
pub(crate) fn group_operations(ctx: &Ctx<'_>, group: &str, asked: bool) -> i32 {
    if asked && !ctx.shared.authorizer_enabled {
        ALL_GROUP_OPERATIONS
    } else if asked {
        let state = ctx.shared.read();
        ctx.authorized_operations(&state, ResourceType::Group, group, ALL_GROUP_OPERATIONS)
    } else {
        i32::MIN
    }
}

/// Splits the groups a request names into those the requester may perform `op` on and
/// those it may not (all allowed without an authorizer).
pub(crate) fn split_groups<T: std::ops::Deref<Target = StrBytes>>(
    ctx: &Ctx<'_>,
    groups: Vec<T>,
    op: Operation,
) -> (Vec<T>, Vec<T>) {
    // Without an authorizer, group requests need not wait for the state lock.
    if !ctx.shared.authorizer_enabled {
        return (groups, Vec::new());
    }
    let state = ctx.shared.read();
    groups
        .into_iter()
        .partition(|g| ctx.allowed(&state, ResourceType::Group, g, op))
}
