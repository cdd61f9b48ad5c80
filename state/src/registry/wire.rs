//! The Confluent wire format every Confluent serializer writes: a zero magic byte, the
//! schema's id as a big-endian 32-bit integer, then the payload (for Protobuf, the
//! message indexes first).

/// A value in the wire format, split; `None` for bytes that are not in it (too short, or
/// another magic byte).
pub fn split(value: &[u8]) -> Option<(i32, &[u8])> {
    match value {
        [0, a, b, c, d, payload @ ..] => Some((i32::from_be_bytes([*a, *b, *c, *d]), payload)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_magic_byte_and_a_big_endian_id_start_a_value() {
        assert_eq!(split(&[0, 0, 0, 1, 2, 9, 9]), Some((258, &[9u8, 9][..])));
        assert_eq!(split(&[1, 0, 0, 0, 1]), None);
        assert_eq!(split(&[0, 0, 0]), None);
    }
}
