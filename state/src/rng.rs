//! The cluster's seeded random numbers.
//!
//! All "random" identifiers (cluster id, topic ids) come from one SplitMix64 stream seeded
//! by the cluster seed, so the same seed and the same sequence of operations give the same
//! identifiers on every run.

use base64::Engine;

#[derive(Debug, Clone)]
pub struct SimRng {
    state: u64,
}

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A random (version 4 shaped) UUID; never the nil UUID, which Kafka reserves.
    pub fn uuid(&mut self) -> uuid::Uuid {
        let bytes = ((self.next_u64() as u128) << 64 | self.next_u64() as u128).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A UUID as Kafka's `Uuid.toString` writes it: 22 characters of URL-safe base64
    /// (cluster ids, consumer group member ids).
    pub fn uuid_base64(&mut self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.uuid().as_bytes())
    }

    /// A cluster id in Kafka's format.
    pub fn cluster_id(&mut self) -> String {
        self.uuid_base64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_ids() {
        let (mut a, mut b) = (SimRng::new(7), SimRng::new(7));
        assert_eq!(a.cluster_id(), b.cluster_id());
        assert_eq!(a.uuid(), b.uuid());
        assert_ne!(SimRng::new(8).uuid(), SimRng::new(7).uuid());
        assert_eq!(SimRng::new(1).cluster_id().len(), 22);
    }
}
