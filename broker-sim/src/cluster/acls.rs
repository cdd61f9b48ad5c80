//! The embedding API's ACL calls: what CreateAcls, DescribeAcls and DeleteAcls do, for a
//! test that sets up permissions before its clients connect (or checks what they made).
//! The bindings are judged only when the cluster runs an authorizer
//! (`ClusterBuilder::authorizer`).

use super::Cluster;
use crate::state::acls::{AclBinding, AclFilter};

impl Cluster {
    /// Every ACL binding, in a stable order.
    pub fn acls(&self) -> Vec<AclBinding> {
        self.shared().lock().acls.list(&AclFilter::any())
    }

    /// Adds an ACL binding (a binding that exists already is kept once). Refused, with
    /// Kafka's message, where CreateAcls would refuse it.
    pub fn add_acl(&self, acl: AclBinding) -> Result<(), crate::KafkaError> {
        if let Some(why) = acl
            .invalid()
            .or_else(|| acl.has_unknown().then(|| "a field is UNKNOWN".to_string()))
        {
            return Err(crate::KafkaError::new(
                kafka_protocol::ResponseError::InvalidRequest,
                why,
            ));
        }
        self.shared().lock().acls.add(acl);
        Ok(())
    }

    /// Removes the bindings `filter` matches and returns them.
    pub fn remove_acls(&self, filter: &AclFilter) -> Vec<AclBinding> {
        let mut removed = self
            .shared()
            .lock()
            .acls
            .remove(std::slice::from_ref(filter));
        removed.pop().unwrap_or_default()
    }
}
