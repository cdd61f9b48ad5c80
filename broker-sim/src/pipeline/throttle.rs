//! The throttle layer: a throttle time reported on the answer (KIP-219) and the
//! connection muted for as long. Fault rules ask for it today; client quotas will.

use std::time::Duration;

use crate::api::{Api, Reply};

/// Sets `ms` on the answer and says how long to mute the connection after sending it.
pub(super) async fn apply<A: Api>(
    mut reply: Reply<A::Response>,
    ms: i32,
) -> (Reply<A::Response>, Option<Duration>) {
    let pause = Duration::from_millis(ms.max(0) as u64);
    match &mut reply {
        Reply::Response(answer) => {
            A::set_throttle(answer, ms);
            (reply, Some(pause))
        }
        // acks=0 has no answer to carry the time; Kafka still mutes the channel, and not
        // returning for that long is the same to the client.
        Reply::NoResponse => {
            tokio::time::sleep(pause).await;
            (reply, None)
        }
        Reply::Close(_) => (reply, None),
    }
}
