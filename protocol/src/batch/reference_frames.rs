//! The pure-Rust LZ4 and zstd decoders held to frames they did not write: fixtures made
//! by the reference command-line tools (zstd 1.5.4 and lz4 1.9.4, the C libraries that
//! librdkafka links and the Java client's codecs port), plus the frame-level cases a
//! producer may send (several zstd frames, skippable frames) and damaged frames.
use super::tests::rebuild;
use super::*;

/// What every fixture below decompresses to.
const TEXT: &[u8] = b"kafka kafka kafka: a frame from the reference tool, kafka kafka kafka.";
/// `zstd -19 --check`: compressed blocks, content checksum.
const ZSTD: &str = "28b52ffd2446850100a2420910b0a903cfb6144d1412934294ca9440046160ccd21da8d7\
                    ea5d923e76750fafe6629662090200bb6abec4a5086d458312";
/// `lz4`: independent blocks, content checksum.
const LZ4: &str = "04224d186440a737000000676b61666b61200600f8133a2061206672616d652066726f6d\
                   20746865207265666572656e636520746f6f6c2c2e0070206b61666b612e00000000f8a4\
                   86f9";
/// `lz4 --content-size -BD`: linked blocks, content size in the frame header.
const LZ4_LINKED: &str = "04224d186c404600000000000000e037000000676b61666b61200600f8133a2061\
                          206672616d652066726f6d20746865207265666572656e636520746f6f6c2c2e00\
                          70206b61666b612e00000000f8a486f9";

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("fixture is hex"))
        .collect()
}

#[test]
fn frames_written_by_the_reference_tools_decode() {
    for (codec, hex) in [
        (Codec::Zstd, ZSTD),
        (Codec::Lz4, LZ4),
        (Codec::Lz4, LZ4_LINKED),
    ] {
        let decoded = decompress_bounded(codec, &unhex(hex), 1 << 10).unwrap();
        assert_eq!(&decoded[..], TEXT, "{codec:?}");
    }
}

#[test]
fn our_frames_round_trip_through_the_pure_rust_codecs() {
    let text = TEXT.repeat(1000);
    for codec in [Codec::Zstd, Codec::Lz4] {
        let compressed = compress(codec, &text).unwrap();
        assert!(compressed.len() < text.len() / 10, "{codec:?} compresses");
        let decoded = decompress_bounded(codec, &compressed, 1 << 20).unwrap();
        assert_eq!(decoded, text, "{codec:?}");
    }
}

#[test]
fn zstd_payloads_of_several_frames_decode_in_order() {
    let mut data = unhex(ZSTD);
    // A skippable frame: its magic number, its length, then content a decoder passes over.
    data.extend_from_slice(&0x184D_2A50u32.to_le_bytes());
    data.extend_from_slice(&3u32.to_le_bytes());
    data.extend_from_slice(b"xyz");
    data.extend_from_slice(&compress(Codec::Zstd, b" Then ours.").unwrap());
    let decoded = decompress_bounded(Codec::Zstd, &data, 1 << 10).unwrap();
    assert_eq!(&decoded[..], [TEXT, b" Then ours."].concat());
}

#[test]
fn a_zstd_frame_whose_checksum_disagrees_is_refused() {
    let mut data = unhex(ZSTD);
    *data.last_mut().unwrap() ^= 0xff;
    match decompress_bounded(Codec::Zstd, &data, 1 << 10) {
        Err(BatchError::Decompress(m)) => assert!(m.contains("checksum"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_lz4_frame_whose_checksum_disagrees_is_refused() {
    let mut data = unhex(LZ4);
    *data.last_mut().unwrap() ^= 0xff;
    assert!(matches!(
        decompress_bounded(Codec::Lz4, &data, 1 << 10),
        Err(BatchError::Decompress(_))
    ));
}

/// A cut zstd frame is an error. lz4_flex reads a frame cut between blocks, or before its
/// end mark and checksum, as ending there: what it returns is then a prefix of the content,
/// which the record checks after it refuse (a batch's records are counted and
/// length-prefixed, and its CRC covers the compressed bytes).
#[test]
fn truncated_or_damaged_frames_are_errors_or_prefixes_never_panics() {
    for (codec, hex) in [
        (Codec::Zstd, ZSTD),
        (Codec::Lz4, LZ4),
        (Codec::Lz4, LZ4_LINKED),
    ] {
        let frame = unhex(hex);
        for len in 1..frame.len() {
            match decompress_bounded(codec, &frame[..len], 1 << 10) {
                Err(BatchError::Decompress(_)) => {}
                Ok(prefix) if codec == Codec::Lz4 => assert!(
                    TEXT.starts_with(&prefix),
                    "{codec:?} cut to {len} bytes gave {prefix:?}"
                ),
                other => panic!("{codec:?} cut to {len} bytes: {other:?}"),
            }
        }
        // Every single-byte change either fails or decodes to at most the limit.
        for at in 0..frame.len() {
            let mut damaged = frame.clone();
            damaged[at] ^= 0x5a;
            if let Ok(decoded) = decompress_bounded(codec, &damaged, 1 << 10) {
                assert!(decoded.len() <= 1 << 10, "{codec:?} byte {at}");
            }
        }
    }
    let mut skippable = 0x184D_2A50u32.to_le_bytes().to_vec();
    skippable.extend_from_slice(&100u32.to_le_bytes());
    assert!(decompress_bounded(Codec::Zstd, &skippable, 1 << 10).is_err());
}

#[test]
fn a_truncated_lz4_payload_fails_the_batch() {
    let records = [NewRecord {
        key: None,
        value: Some(Bytes::from(TEXT.repeat(100))),
        headers: Vec::new(),
        timestamp: 1,
    }];
    let plain = encode_batch(&records, Codec::None).unwrap();
    let payload = compress(Codec::Lz4, &plain[BATCH_HEADER_LEN..]).unwrap();
    for len in [7, 11, payload.len() / 2] {
        let cut = rebuild(&plain, Codec::Lz4 as i16, &payload[..len]);
        assert!(
            BatchView::parse(&cut).unwrap().records().is_err(),
            "cut to {len}"
        );
    }
}
