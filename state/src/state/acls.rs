//! ACL bindings and the authorizer that judges requests by them, with the semantics of
//! Kafka's `StandardAuthorizer`: the cluster stores bindings (CreateAcls, DeleteAcls,
//! the embedding and control APIs), and every API asks [`Acls::authorize`] whether a
//! principal may perform an operation on a resource.
//!
//! The rules, as Kafka applies them:
//! - a binding matches a resource when it names it exactly (LITERAL), names a prefix of
//!   it (PREFIXED), or is the LITERAL wildcard `*`;
//! - it applies to a request when its principal is the request's or `User:*`, and its
//!   host the client's address or `*`;
//! - DENY wins over ALLOW; an ALLOW of READ, WRITE, DELETE or ALTER also allows
//!   DESCRIBE, one of ALTER_CONFIGS also DESCRIBE_CONFIGS (a DENY implies nothing);
//!   ALL matches every operation;
//! - a resource with no binding at all (for anyone) is allowed only with
//!   `allow.everyone.if.no.acl.found`; super users are always allowed.
//!
//! Bindings are kept in a `BTreeSet`, so descriptions and deletions come out in one
//! order run after run (Kafka's come in hash order).

use std::collections::BTreeSet;

use crate::config::AuthorizerConfig;

/// The CLUSTER resource's only name.
pub const CLUSTER_NAME: &str = "kafka-cluster";
/// The wildcard resource name, principal name and host.
pub const WILDCARD: &str = "*";

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $code:literal => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($variant = $code),*
        }

        impl $name {
            /// The value for a wire code; codes Kafka does not know are UNKNOWN.
            pub fn from_code(code: i8) -> Self {
                match code {
                    $($code => $name::$variant,)*
                    _ => $name::Unknown,
                }
            }

            pub fn code(self) -> i8 {
                self as i8
            }

            /// Kafka's name for it (`toString` of its enum).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),*
                }
            }

            /// The value for Kafka's name, case-insensitively.
            pub fn parse(text: &str) -> Option<Self> {
                [$($name::$variant),*]
                    .into_iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(text))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// What an ACL protects (Kafka's `ResourceType`).
    ResourceType {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        Topic = 2 => "TOPIC",
        Group = 3 => "GROUP",
        Cluster = 4 => "CLUSTER",
        TransactionalId = 5 => "TRANSACTIONAL_ID",
        DelegationToken = 6 => "DELEGATION_TOKEN",
        User = 7 => "USER",
    }
);

wire_enum!(
    /// How an ACL's resource name matches (Kafka's `PatternType`); MATCH and ANY only
    /// in filters.
    PatternType {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        Match = 2 => "MATCH",
        Literal = 3 => "LITERAL",
        Prefixed = 4 => "PREFIXED",
    }
);

wire_enum!(
    /// Kafka's `AclOperation`.
    Operation {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        All = 2 => "ALL",
        Read = 3 => "READ",
        Write = 4 => "WRITE",
        Create = 5 => "CREATE",
        Delete = 6 => "DELETE",
        Alter = 7 => "ALTER",
        Describe = 8 => "DESCRIBE",
        ClusterAction = 9 => "CLUSTER_ACTION",
        DescribeConfigs = 10 => "DESCRIBE_CONFIGS",
        AlterConfigs = 11 => "ALTER_CONFIGS",
        IdempotentWrite = 12 => "IDEMPOTENT_WRITE",
        CreateTokens = 13 => "CREATE_TOKENS",
        DescribeTokens = 14 => "DESCRIBE_TOKENS",
    }
);

wire_enum!(
    /// Kafka's `AclPermissionType`.
    Permission {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        Deny = 2 => "DENY",
        Allow = 3 => "ALLOW",
    }
);

impl ResourceType {
    /// The operations an authorized-operations bit set reports for this resource type
    /// (Kafka's `AclEntry.supportedOperations`).
    pub fn supported_operations(self) -> &'static [Operation] {
        use Operation::*;
        match self {
            ResourceType::Topic => &[
                Read,
                Write,
                Create,
                Describe,
                Delete,
                Alter,
                DescribeConfigs,
                AlterConfigs,
            ],
            ResourceType::Group => &[Read, Describe, Delete, DescribeConfigs, AlterConfigs],
            ResourceType::Cluster => &[
                Create,
                ClusterAction,
                DescribeConfigs,
                AlterConfigs,
                IdempotentWrite,
                Alter,
                Describe,
            ],
            ResourceType::TransactionalId => &[Describe, Write],
            ResourceType::DelegationToken => &[Describe],
            ResourceType::User => &[CreateTokens, DescribeTokens],
            _ => &[],
        }
    }
}

/// One ACL binding: a resource pattern and an access control entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub pattern_type: PatternType,
    /// "Type:name", e.g. "User:alice" or "User:*".
    pub principal: String,
    pub host: String,
    pub operation: Operation,
    pub permission: Permission,
}

impl AclBinding {
    /// Kafka's reasons to refuse creating this binding (INVALID_REQUEST): the broker's
    /// checks (`AclApis`), then the controller's (`AclControlManager.validateNewAcl`).
    pub fn invalid(&self) -> Option<String> {
        if self.resource_type == ResourceType::Cluster && self.resource_name != CLUSTER_NAME {
            return Some(format!(
                "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
            ));
        }
        if self.resource_name.is_empty() {
            return Some("Invalid empty resource name".into());
        }
        if matches!(
            self.resource_type,
            ResourceType::Unknown | ResourceType::Any
        ) {
            return Some(format!("Invalid resourceType {}", self.resource_type));
        }
        if !matches!(
            self.pattern_type,
            PatternType::Literal | PatternType::Prefixed
        ) {
            return Some(format!("Invalid patternType {}", self.pattern_type));
        }
        if matches!(self.operation, Operation::Unknown | Operation::Any) {
            return Some(format!("Invalid operation {}", self.operation));
        }
        if !matches!(self.permission, Permission::Allow | Permission::Deny) {
            return Some(format!("Invalid permissionType {}", self.permission));
        }
        None
    }

    /// Whether a field holds a filter's value (resource type ANY, pattern MATCH or ANY,
    /// operation or permission ANY): Kafka's broker cannot make a binding of it, and the
    /// whole CreateAcls request fails (UNKNOWN_SERVER_ERROR on every creation).
    pub fn has_filter_value(&self) -> bool {
        self.resource_type == ResourceType::Any
            || matches!(self.pattern_type, PatternType::Match | PatternType::Any)
            || self.operation == Operation::Any
            || self.permission == Permission::Any
    }

    /// Whether a field is UNKNOWN (or a code Kafka does not know): Kafka cannot even
    /// build such a request, and closes the connection.
    pub fn has_unknown(&self) -> bool {
        self.resource_type == ResourceType::Unknown
            || self.pattern_type == PatternType::Unknown
            || self.operation == Operation::Unknown
            || self.permission == Permission::Unknown
    }
}

/// A filter over bindings (Kafka's `AclBindingFilter`): `None` strings match anything,
/// ANY matches any value, and pattern MATCH matches every binding that would apply to
/// the named resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclFilter {
    pub resource_type: ResourceType,
    pub resource_name: Option<String>,
    pub pattern_type: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: Operation,
    pub permission: Permission,
}

impl AclFilter {
    /// The filter that matches every binding.
    pub fn any() -> Self {
        AclFilter {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: Operation::Any,
            permission: Permission::Any,
        }
    }

    /// Whether a field is UNKNOWN (see [`AclBinding::has_unknown`]).
    pub fn has_unknown(&self) -> bool {
        self.resource_type == ResourceType::Unknown
            || self.pattern_type == PatternType::Unknown
            || self.operation == Operation::Unknown
            || self.permission == Permission::Unknown
    }

    pub fn matches(&self, acl: &AclBinding) -> bool {
        self.matches_pattern(acl)
            && self.principal.as_ref().is_none_or(|p| *p == acl.principal)
            && self.host.as_ref().is_none_or(|h| *h == acl.host)
            && (self.operation == Operation::Any || self.operation == acl.operation)
            && (self.permission == Permission::Any || self.permission == acl.permission)
    }

    fn matches_pattern(&self, acl: &AclBinding) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != acl.resource_type {
            return false;
        }
        let pattern = self.pattern_type;
        if !matches!(pattern, PatternType::Any | PatternType::Match) && pattern != acl.pattern_type
        {
            return false;
        }
        let Some(name) = &self.resource_name else {
            return true;
        };
        if pattern == PatternType::Any || pattern == acl.pattern_type {
            return *name == acl.resource_name;
        }
        // MATCH: every binding that applies to a resource called `name`.
        match acl.pattern_type {
            PatternType::Literal => *name == acl.resource_name || acl.resource_name == WILDCARD,
            PatternType::Prefixed => name.starts_with(&acl.resource_name),
            _ => false,
        }
    }
}

/// Who asks: the principal ("User:alice") and the client's address ("127.0.0.1").
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub principal: &'a str,
    pub host: &'a str,
}

/// The cluster's ACL bindings.
#[derive(Debug, Default, Clone)]
pub struct Acls {
    bindings: BTreeSet<AclBinding>,
}

impl Acls {
    /// Adds a binding; adding one that exists already changes nothing (as in Kafka).
    pub fn add(&mut self, acl: AclBinding) {
        self.bindings.insert(acl);
    }

    /// The bindings `filter` matches, in order.
    pub fn list(&self, filter: &AclFilter) -> Vec<AclBinding> {
        self.bindings
            .iter()
            .filter(|a| filter.matches(a))
            .cloned()
            .collect()
    }

    /// Removes the bindings any of `filters` matches, all at once as Kafka applies a
    /// DeleteAcls request: returns each filter's matches, so a binding two filters
    /// match is reported by both.
    pub fn remove(&mut self, filters: &[AclFilter]) -> Vec<Vec<AclBinding>> {
        let removed: Vec<Vec<AclBinding>> = filters.iter().map(|f| self.list(f)).collect();
        for acl in removed.iter().flatten() {
            self.bindings.remove(acl);
        }
        removed
    }

    /// Whether `who` may perform `op` on the resource `kind` called `name`.
    pub fn authorize(
        &self,
        config: &AuthorizerConfig,
        who: Requester<'_>,
        kind: ResourceType,
        name: &str,
        op: Operation,
    ) -> bool {
        if config.super_users.iter().any(|s| s == who.principal) {
            return true;
        }
        let mut found_any = false;
        let mut allowed = false;
        for acl in self.bindings.iter().filter(|a| applies_to(a, kind, name)) {
            found_any = true;
            match verdict(acl, who, op) {
                Some(Permission::Deny) => return false,
                Some(Permission::Allow) => allowed = true,
                _ => {}
            }
        }
        allowed || (!found_any && config.allow_everyone_if_no_acl_found)
    }

    /// Whether `who` may perform `op` on some resource of type `kind` (Kafka's
    /// `authorizeByResourceType`): allowed on a resource without ACLs, or an ALLOW for
    /// some literal or prefixed name that no DENY covers.
    pub fn authorize_any(
        &self,
        config: &AuthorizerConfig,
        who: Requester<'_>,
        kind: ResourceType,
        op: Operation,
    ) -> bool {
        // Kafka asks about a made-up name first, so super users and resources without
        // ACLs are allowed whatever DENY bindings say.
        if self.authorize(config, who, kind, "hardcode", op) {
            return true;
        }
        let relevant = |acl: &&AclBinding, permission: Permission| {
            acl.resource_type == kind
                && acl.permission == permission
                && principal_matches(acl, who)
                && host_matches(acl, who)
                && (acl.operation == op || acl.operation == Operation::All)
        };
        let denies: Vec<&AclBinding> = self
            .bindings
            .iter()
            .filter(|a| relevant(a, Permission::Deny))
            .collect();
        if denies
            .iter()
            .any(|d| d.pattern_type == PatternType::Literal && d.resource_name == WILDCARD)
        {
            return false;
        }
        let denied_prefix = |name: &str| {
            denies.iter().any(|d| {
                d.pattern_type == PatternType::Prefixed && name.starts_with(&d.resource_name)
            })
        };
        self.bindings
            .iter()
            .filter(|a| relevant(a, Permission::Allow))
            .any(|a| match a.pattern_type {
                PatternType::Literal => {
                    a.resource_name == WILDCARD
                        || !(denied_prefix(&a.resource_name)
                            || denies.iter().any(|d| {
                                d.pattern_type == PatternType::Literal
                                    && d.resource_name == a.resource_name
                            }))
                }
                PatternType::Prefixed => !denied_prefix(&a.resource_name),
                _ => false,
            })
    }

    /// The authorized-operations bit set of a resource: bit `op` for each operation of
    /// the type that `who` may perform.
    pub fn authorized_operations(
        &self,
        config: &AuthorizerConfig,
        who: Requester<'_>,
        kind: ResourceType,
        name: &str,
    ) -> i32 {
        kind.supported_operations()
            .iter()
            .filter(|op| self.authorize(config, who, kind, name, **op))
            .fold(0, |bits, op| bits | (1 << op.code()))
    }
}

/// Whether `acl`'s resource pattern covers the resource `kind` called `name`.
fn applies_to(acl: &AclBinding, kind: ResourceType, name: &str) -> bool {
    acl.resource_type == kind
        && match acl.pattern_type {
            PatternType::Literal => acl.resource_name == name || acl.resource_name == WILDCARD,
            PatternType::Prefixed => name.starts_with(&acl.resource_name),
            _ => false,
        }
}

fn principal_matches(acl: &AclBinding, who: Requester<'_>) -> bool {
    acl.principal == who.principal || acl.principal == "User:*"
}

fn host_matches(acl: &AclBinding, who: Requester<'_>) -> bool {
    acl.host == WILDCARD || acl.host == who.host
}

/// What `acl` says about `who` performing `op` (its resource already matched): ALLOW,
/// DENY, or nothing.
fn verdict(acl: &AclBinding, who: Requester<'_>, op: Operation) -> Option<Permission> {
    if !principal_matches(acl, who) || !host_matches(acl, who) {
        return None;
    }
    let covers = acl.operation == Operation::All
        || acl.operation == op
        || (acl.permission == Permission::Allow
            && match op {
                Operation::Describe => matches!(
                    acl.operation,
                    Operation::Read | Operation::Write | Operation::Delete | Operation::Alter
                ),
                Operation::DescribeConfigs => acl.operation == Operation::AlterConfigs,
                _ => false,
            });
    covers.then_some(acl.permission)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(
        kind: ResourceType,
        name: &str,
        pattern: PatternType,
        principal: &str,
        op: Operation,
        permission: Permission,
    ) -> AclBinding {
        AclBinding {
            resource_type: kind,
            resource_name: name.into(),
            pattern_type: pattern,
            principal: principal.into(),
            host: WILDCARD.into(),
            operation: op,
            permission,
        }
    }

    fn topic(name: &str, pattern: PatternType, op: Operation, p: Permission) -> AclBinding {
        acl(ResourceType::Topic, name, pattern, "User:alice", op, p)
    }

    const ALICE: Requester<'static> = Requester {
        principal: "User:alice",
        host: "127.0.0.1",
    };

    fn config(allow_everyone: bool) -> AuthorizerConfig {
        AuthorizerConfig {
            enabled: true,
            super_users: vec!["User:admin".into()],
            allow_everyone_if_no_acl_found: allow_everyone,
        }
    }

    fn may(acls: &Acls, allow_everyone: bool, name: &str, op: Operation) -> bool {
        acls.authorize(
            &config(allow_everyone),
            ALICE,
            ResourceType::Topic,
            name,
            op,
        )
    }

    use Operation::*;
    use PatternType::*;
    use Permission::*;

    #[test]
    fn a_resource_without_acls_follows_allow_everyone() {
        let acls = Acls::default();
        assert!(!may(&acls, false, "orders", Read));
        assert!(may(&acls, true, "orders", Read));
    }

    #[test]
    fn an_acl_for_someone_else_still_makes_the_resource_guarded() {
        let mut acls = Acls::default();
        acls.add(acl(
            ResourceType::Topic,
            "orders",
            Literal,
            "User:bob",
            Read,
            Allow,
        ));
        assert!(!may(&acls, true, "orders", Read));
        assert!(may(&acls, true, "other", Read));
    }

    #[test]
    fn literal_prefixed_and_wildcard_patterns_match_as_in_kafka() {
        let mut acls = Acls::default();
        acls.add(topic("orders", Literal, Read, Allow));
        acls.add(topic("pay-", Prefixed, Write, Allow));
        acls.add(topic("*", Literal, Create, Allow));
        assert!(may(&acls, false, "orders", Read));
        assert!(!may(&acls, false, "orders2", Read));
        assert!(may(&acls, false, "pay-eu", Write));
        assert!(!may(&acls, false, "pa", Write));
        assert!(may(&acls, false, "anything", Create));
        // A PREFIXED "*" is a prefix, not a wildcard.
        let mut star = Acls::default();
        star.add(topic("*", Prefixed, Read, Allow));
        assert!(!may(&star, false, "orders", Read));
        assert!(may(&star, false, "*x", Read));
    }

    #[test]
    fn deny_wins_over_allow_wherever_it_comes_from() {
        let mut acls = Acls::default();
        acls.add(topic("*", Literal, All, Allow));
        acls.add(topic("secret-", Prefixed, Read, Deny));
        assert!(may(&acls, false, "public", Read));
        assert!(!may(&acls, false, "secret-x", Read));
        assert!(may(&acls, false, "secret-x", Write));
    }

    #[test]
    fn read_write_delete_alter_imply_describe_but_a_deny_implies_nothing() {
        for op in [Read, Write, Delete, Alter] {
            let mut acls = Acls::default();
            acls.add(topic("t", Literal, op, Allow));
            assert!(may(&acls, false, "t", Describe), "{op}");
        }
        let mut acls = Acls::default();
        acls.add(topic("t", Literal, Create, Allow));
        assert!(!may(&acls, false, "t", Describe));
        let mut acls = Acls::default();
        acls.add(topic("t", Literal, AlterConfigs, Allow));
        assert!(may(&acls, false, "t", DescribeConfigs));
        let mut acls = Acls::default();
        acls.add(topic("t", Literal, Read, Deny));
        assert!(!may(&acls, true, "t", Describe));
    }

    #[test]
    fn wildcard_principal_and_host_match_anyone_a_specific_host_only_itself() {
        let mut acls = Acls::default();
        acls.add(acl(
            ResourceType::Topic,
            "t",
            Literal,
            "User:*",
            Read,
            Allow,
        ));
        assert!(may(&acls, false, "t", Read));
        let mut elsewhere = topic("u", Literal, Read, Allow);
        elsewhere.host = "10.0.0.1".into();
        acls.add(elsewhere);
        assert!(!may(&acls, false, "u", Read));
    }

    #[test]
    fn super_users_pass_every_check() {
        let mut acls = Acls::default();
        acls.add(acl(ResourceType::Topic, "*", Literal, "User:*", All, Deny));
        let admin = Requester {
            principal: "User:admin",
            host: "127.0.0.1",
        };
        assert!(acls.authorize(&config(false), admin, ResourceType::Topic, "t", Delete));
    }

    #[test]
    fn authorized_operations_lists_what_is_allowed() {
        let mut acls = Acls::default();
        acls.add(topic("t", Literal, Read, Allow));
        let bits = acls.authorized_operations(&config(false), ALICE, ResourceType::Topic, "t");
        assert_eq!(bits, (1 << 3) | (1 << 8));
    }

    #[test]
    fn authorize_any_finds_an_allow_no_deny_covers() {
        let cfg = config(false);
        let mut acls = Acls::default();
        assert!(!acls.authorize_any(&cfg, ALICE, ResourceType::Topic, Write));
        acls.add(topic("a-", Prefixed, Write, Allow));
        assert!(acls.authorize_any(&cfg, ALICE, ResourceType::Topic, Write));
        acls.add(topic("a", Prefixed, Write, Deny));
        assert!(!acls.authorize_any(&cfg, ALICE, ResourceType::Topic, Write));
    }

    #[test]
    fn filters_match_like_kafkas_acl_binding_filter() {
        let lit = topic("orders", Literal, Read, Allow);
        let star = topic("*", Literal, Read, Allow);
        let pre = topic("ord", Prefixed, Read, Allow);
        let named = |pattern, name: &str| AclFilter {
            resource_type: ResourceType::Topic,
            resource_name: Some(name.into()),
            pattern_type: pattern,
            ..AclFilter::any()
        };
        let m = named(Match, "orders");
        assert!(m.matches(&lit) && m.matches(&star) && m.matches(&pre));
        let l = named(Literal, "*");
        assert!(l.matches(&star) && !l.matches(&lit));
        let any = named(PatternType::Any, "ord");
        assert!(any.matches(&pre) && !any.matches(&lit));
        assert!(AclFilter::any().matches(&lit));
        let deny_only = AclFilter {
            permission: Deny,
            ..AclFilter::any()
        };
        assert!(!deny_only.matches(&lit));
    }

    #[test]
    fn adding_twice_keeps_one_and_remove_returns_what_it_took() {
        let mut acls = Acls::default();
        acls.add(topic("t", Literal, Read, Allow));
        acls.add(topic("t", Literal, Read, Allow));
        assert_eq!(acls.list(&AclFilter::any()).len(), 1);
        assert_eq!(
            acls.remove(&[AclFilter::any(), AclFilter::any()]),
            vec![vec![topic("t", Literal, Read, Allow)]; 2]
        );
        assert!(acls.list(&AclFilter::any()).is_empty());
    }
}
