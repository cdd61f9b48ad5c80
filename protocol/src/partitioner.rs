//! The Java client's default partitioner for keyed records.
//!
//! The broker never picks a partition for a record: clients do. The simulator still needs
//! the same function, so that a "produce from a test" helper lands a keyed record on the
//! partition a real Java client (or librdkafka with `partitioner=murmur2_random`) would
//! choose, and so that tests can predict where a client's keyed records end up. Both of
//! those only work if the hash is bit-for-bit the Java one, which is why this module is
//! pinned by test vectors taken from the clients themselves rather than by a description
//! of the algorithm.

/// Kafka's murmur2 (seed `0x9747b28c`) as the Java client's `Utils.murmur2` computes it,
/// reinterpreted as a signed 32-bit integer the way Java returns it.
pub fn murmur2(data: &[u8]) -> i32 {
    // The crate reads 4-byte blocks little-endian regardless of host order, which is what
    // Java's byte-by-byte assembly does; the vectors in the tests hold it to that.
    ::murmur2::murmur2(data, ::murmur2::KAFKA_SEED) as i32
}

/// The partition Java's `BuiltInPartitioner.partitionForKey` (formerly `DefaultPartitioner`)
/// picks for a record with key bytes `key`: `(murmur2(key) & 0x7fffffff) % partitions`.
///
/// Masking rather than `abs()` matters: `abs(i32::MIN)` is still negative in Java, and the
/// mask is what every Kafka client agrees on.
///
/// A topic always has at least one partition, so `partitions <= 0` can only come from a
/// caller bug or a metadata race; rather than panic inside the broker it returns 0.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    if partitions <= 0 {
        return 0;
    }
    (murmur2(key) & 0x7fff_ffff) % partitions
}

/// Java's `String.hashCode`: where Kafka's answers follow a `HashMap`'s or `HashSet`'s
/// order (or a hash picks a coordinator), broker-sim follows it too.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// From Apache Kafka, `UtilsTest.testMurmur2`
    /// (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
    const KAFKA_UTILS_TEST: &[(&[u8], i32)] = &[
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (
            b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58897971,
        ),
        (b"abc", 479470107),
    ];

    #[test]
    fn murmur2_matches_kafka_utils_test() {
        for (key, expected) in KAFKA_UTILS_TEST {
            assert_eq!(
                murmur2(key),
                *expected,
                "key {:?}",
                String::from_utf8_lossy(key)
            );
        }
    }

    /// librdkafka's `unittest_murmurhashneutral2` (src/rdmurmur2.c) lists Java client
    /// results for these keys, already masked to positive.
    #[test]
    fn murmur2_matches_librdkafka_java_cross_check() {
        let cases: &[(&[u8], i32)] = &[
            (b"kafka", 1348980580),
            (b"amqp", 767747138),
            (b"giberish123456789", 257239820),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key) & 0x7fff_ffff, *expected);
        }
    }

    /// librdkafka's tests/0048-partitioner.c expects these partitions for its `murmur2`
    /// partitioner on 7- and 17-partition topics; the masked hashes there were produced by
    /// the Java client. Covers the empty key, which Java hashes like any other key.
    #[test]
    fn partition_for_key_matches_cross_client_vectors() {
        let cases: &[(&[u8], u32)] = &[
            (b"", 0x106e08d9),
            (b"23456", 0x058d780f),
            (
                b"this is another string with more length to it perhaps",
                0x4f7703da,
            ),
            (b"hejsan", 0x5ec19395),
        ];
        for (key, masked) in cases {
            assert_eq!(murmur2(key) & 0x7fff_ffff, *masked as i32);
        }
        let expected_7 = [2, 5, 1, 6];
        let expected_17 = [11, 9, 11, 5];
        for (i, (key, _)) in cases.iter().enumerate() {
            assert_eq!(partition_for_key(key, 7), expected_7[i]);
            assert_eq!(partition_for_key(key, 17), expected_17[i]);
        }
    }

    /// Partitions derived by hand from the Kafka `UtilsTest` hashes above, so a change in
    /// the masking or modulo step shows up even when the hash itself is right.
    #[test]
    fn partition_for_key_from_kafka_hashes() {
        assert_eq!(partition_for_key(b"21", 100), 40);
        assert_eq!(partition_for_key(b"foobar", 10), 6);
        assert_eq!(partition_for_key(b"foobar", 100), 66);
        assert_eq!(partition_for_key(b"abc", 10), 7);
        for (key, _) in KAFKA_UTILS_TEST {
            for n in 1..64 {
                let p = partition_for_key(key, n);
                assert!((0..n).contains(&p));
            }
        }
    }

    #[test]
    fn partition_for_key_with_no_partitions_is_zero() {
        assert_eq!(partition_for_key(b"key", 0), 0);
        assert_eq!(partition_for_key(b"key", -5), 0);
        assert_eq!(partition_for_key(b"key", 1), 0);
    }
}
