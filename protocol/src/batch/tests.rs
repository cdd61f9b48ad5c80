//! Tests of record-batch views: codecs, CRC, in-place rewrites, malformed input.
use super::*;
use proptest::prelude::*;

const ALL_CODECS: [Codec; 5] = [
    Codec::None,
    Codec::Gzip,
    Codec::Snappy,
    Codec::Lz4,
    Codec::Zstd,
];
const T0: i64 = 1_700_000_000_000;

fn b(bytes: &'static [u8]) -> Option<Bytes> {
    Some(Bytes::from_static(bytes))
}

fn header(key: &str, value: Option<Bytes>) -> (String, Option<Bytes>) {
    (key.to_owned(), value)
}

fn sample() -> Vec<NewRecord> {
    let rec = |timestamp, key, value, headers| NewRecord {
        timestamp,
        key,
        value,
        headers,
    };
    vec![
        rec(T0, None, b(b"first"), vec![]),
        rec(
            T0 + 5,
            b(b"k"),
            None,
            vec![
                header("dup", b(b"a")),
                header("dup", b(b"b")),
                header("bin", b(&[0, 0xff, 0x80, 0x7f, 0])),
                header("null", None),
            ],
        ),
        // Earlier than the base timestamp: the delta goes negative.
        rec(T0 - 10, b(b""), b(b""), vec![header("", b(b""))]),
        rec(
            T0 + 1,
            b(b"big"),
            Some(Bytes::from("x".repeat(5000))),
            vec![],
        ),
    ]
}

fn expected(records: &[NewRecord], base_offset: i64) -> Vec<DecodedRecord> {
    (0..)
        .zip(records)
        .map(|(i, r)| DecodedRecord {
            offset: base_offset + i,
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r.headers.clone(),
        })
        .collect()
}

/// Same header, new attributes and records section, CRC recomputed.
pub(super) fn rebuild(batch: &[u8], attributes: i16, payload: &[u8]) -> Vec<u8> {
    let mut out = batch[..BATCH_HEADER_LEN].to_vec();
    out.extend_from_slice(payload);
    let batch_length = (out.len() - LOG_OVERHEAD) as i32;
    out[BATCH_LENGTH_AT..LEADER_EPOCH_AT].copy_from_slice(&batch_length.to_be_bytes());
    out[ATTRIBUTES_AT..ATTRIBUTES_AT + 2].copy_from_slice(&attributes.to_be_bytes());
    let crc = crc32c::crc32c(&out[ATTRIBUTES_AT..]);
    out[CRC_AT..ATTRIBUTES_AT].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Raw (unframed) snappy made only of literals, as a stand-in for librdkafka's output.
fn raw_snappy(data: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    put_uvarint(&mut out, data.len() as u64);
    for chunk in data.chunks(1 << 16) {
        out.put_u8(61 << 2); // literal whose length-1 follows as 2 bytes LE
        out.put_u16_le((chunk.len() - 1) as u16);
        out.extend_from_slice(chunk);
    }
    out.to_vec()
}

#[test]
fn round_trips_every_codec() {
    let records = sample();
    for codec in ALL_CODECS {
        let bytes = encode_batch(&records, codec).unwrap();
        let view = BatchView::parse(&bytes).unwrap();
        view.verify_crc().unwrap();
        assert_eq!(view.codec().unwrap(), codec);
        assert_eq!(view.total_len(), bytes.len());
        assert_eq!(view.as_bytes(), &bytes[..]);
        assert_eq!(view.magic(), MAGIC_V2);
        assert_eq!((view.base_offset(), view.partition_leader_epoch()), (0, -1));
        assert_eq!((view.last_offset_delta(), view.last_offset()), (3, 3));
        assert_eq!((view.base_timestamp(), view.max_timestamp()), (T0, T0 + 5));
        assert_eq!(
            (
                view.producer_id(),
                view.producer_epoch(),
                view.base_sequence()
            ),
            (-1, -1, -1)
        );
        assert_eq!(view.records_count(), 4);
        assert!(
            !view.is_transactional() && !view.is_control() && !view.timestamp_type_log_append()
        );
        assert_eq!(view.records().unwrap(), expected(&records, 0), "{codec:?}");
    }
    let big = encode_batch(&records, Codec::None).unwrap().len();
    for codec in [Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
        assert!(
            encode_batch(&records, codec).unwrap().len() < big / 2,
            "{codec:?}"
        );
    }
}

/// kafka-protocol's own record codec is an independent implementation of the format:
/// each side must read what the other writes, CRC included.
#[test]
fn interoperates_with_kafka_protocol_records() {
    use kafka_protocol::records::*;
    // kafka-protocol keeps headers in a map, so give it unique keys only.
    let mut records = sample();
    records[1].headers.remove(1);
    let compressions = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    for (codec, compression) in ALL_CODECS.into_iter().zip(compressions) {
        let mut ours = encode_batch(&records, codec).unwrap();
        let theirs = RecordBatchDecoder::decode(&mut ours).unwrap().records;
        let theirs: Vec<DecodedRecord> = theirs
            .into_iter()
            .map(|r| DecodedRecord {
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r
                    .headers
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            })
            .collect();
        assert_eq!(theirs, expected(&records, 0), "{codec:?}");

        let mut input = Vec::new();
        for (offset, r) in (0..).zip(&records) {
            let mut record = Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset,
                // It splits batches where offset - sequence changes.
                sequence: offset as i32 - 1,
                timestamp: r.timestamp,
                key: r.key.clone(),
                value: r.value.clone(),
                headers: Default::default(),
            };
            for (k, v) in &r.headers {
                record.headers.insert(k.clone().into(), v.clone());
            }
            input.push(record);
        }
        let mut buf = BytesMut::new();
        let options = RecordEncodeOptions {
            version: 2,
            compression,
        };
        RecordBatchEncoder::encode(&mut buf, &input, &options).unwrap();
        let view = BatchView::parse(&buf).unwrap();
        view.verify_crc().unwrap();
        assert_eq!(view.records().unwrap(), expected(&records, 0), "{codec:?}");
    }
}

#[test]
fn snappy_accepts_xerial_framing_and_raw() {
    let records = sample();
    let framed = encode_batch(&records, Codec::Snappy).unwrap();
    assert!(framed[BATCH_HEADER_LEN..].starts_with(XERIAL_HEADER));
    let plain = encode_batch(&records, Codec::None).unwrap();
    let raw = rebuild(&plain, 2, &raw_snappy(&plain[BATCH_HEADER_LEN..]));
    let view = BatchView::parse(&raw).unwrap();
    view.verify_crc().unwrap();
    assert_eq!(view.records().unwrap(), expected(&records, 0));
}

#[test]
fn snappy_length_bomb_is_rejected_before_allocating() {
    let plain = encode_batch(&sample(), Codec::None).unwrap();
    let mut bomb = vec![0xff, 0xff, 0xff, 0xff, 0x0f, 0]; // claims 4 GiB from 6 bytes
    let raw = rebuild(&plain, 2, &bomb);
    assert!(matches!(
        BatchView::parse(&raw).unwrap().records(),
        Err(BatchError::Decompress(_))
    ));
    let mut framed = XERIAL_HEADER.to_vec();
    framed.extend_from_slice(&(bomb.len() as u32).to_be_bytes());
    framed.append(&mut bomb);
    let raw = rebuild(&plain, 2, &framed);
    assert!(matches!(
        BatchView::parse(&raw).unwrap().records(),
        Err(BatchError::Decompress(_))
    ));
}

#[test]
fn log_append_time_and_flags() {
    let plain = encode_batch(&sample(), Codec::None).unwrap();
    let attrs = TIMESTAMP_TYPE_BIT | TRANSACTIONAL_BIT | CONTROL_BIT;
    let rebuilt = rebuild(&plain, attrs, &plain[BATCH_HEADER_LEN..]);
    let view = BatchView::parse(&rebuilt).unwrap();
    assert!(view.is_transactional() && view.is_control() && view.timestamp_type_log_append());
    assert!(
        view.records()
            .unwrap()
            .iter()
            .all(|r| r.timestamp == T0 + 5)
    );
}

#[test]
fn crc_detects_a_flipped_byte() {
    let mut bytes = encode_batch(&sample(), Codec::None).unwrap().to_vec();
    BatchView::parse(&bytes).unwrap().verify_crc().unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let view = BatchView::parse(&bytes).unwrap();
    match view.verify_crc() {
        Err(BatchError::BadCrc { expected, actual }) => {
            assert_eq!(expected, view.crc());
            assert_eq!(actual, view.compute_crc());
            assert_ne!(expected, actual);
        }
        other => panic!("expected BadCrc, got {other:?}"),
    }
}

#[test]
fn setters_keep_the_crc_valid() {
    let mut bytes = encode_batch(&sample(), Codec::Zstd).unwrap().to_vec();
    set_base_offset(&mut bytes, 1_000);
    set_partition_leader_epoch(&mut bytes, 7);
    let view = BatchView::parse(&bytes).unwrap();
    view.verify_crc().unwrap();
    assert_eq!(
        (view.base_offset(), view.partition_leader_epoch()),
        (1_000, 7)
    );
    assert_eq!(view.last_offset(), 1_003);
    assert_eq!(view.records().unwrap(), expected(&sample(), 1_000));
}

#[test]
#[should_panic(expected = "shorter than")]
fn setters_panic_on_short_slices() {
    set_base_offset(&mut [0; BATCH_HEADER_LEN - 1], 1);
}

#[test]
fn malformed_headers_are_errors() {
    let bytes = encode_batch(&sample(), Codec::None).unwrap();
    for len in 0..bytes.len() {
        assert!(
            BatchView::parse(&bytes[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    let err = BatchView::parse(&bytes[..100]).unwrap_err();
    assert!(
        matches!(err, BatchError::Truncated { needed, available: 100 } if needed == bytes.len())
    );

    let mut bad = bytes.to_vec();
    bad[MAGIC_AT] = 1;
    assert!(matches!(
        BatchView::parse(&bad),
        Err(BatchError::BadMagic(1))
    ));

    for length in [-1, 0, 48, i32::MIN] {
        let mut bad = bytes.to_vec();
        bad[BATCH_LENGTH_AT..LEADER_EPOCH_AT].copy_from_slice(&length.to_be_bytes());
        assert!(matches!(BatchView::parse(&bad), Err(BatchError::BadLength(l)) if l == length));
    }
    let mut bad = bytes.to_vec();
    bad[BATCH_LENGTH_AT..LEADER_EPOCH_AT].copy_from_slice(&i32::MAX.to_be_bytes());
    assert!(matches!(
        BatchView::parse(&bad),
        Err(BatchError::Truncated { .. })
    ));

    let bad = rebuild(&bytes, 5, &bytes[BATCH_HEADER_LEN..]);
    assert!(matches!(
        BatchView::parse(&bad).unwrap().records(),
        Err(BatchError::UnknownCodec(5))
    ));
}

#[test]
fn record_count_must_match() {
    let bytes = encode_batch(&sample(), Codec::Gzip).unwrap();
    for (count, more) in [(5i32, true), (3, false), (-1, false)] {
        let mut bad = bytes.to_vec();
        bad[57..61].copy_from_slice(&count.to_be_bytes());
        let err = BatchView::parse(&bad).unwrap().records().unwrap_err();
        match err {
            BatchError::RecordCount { declared, .. } => assert!(more || declared < 0, "{err}"),
            BatchError::MalformedRecord(m) => assert!(!more && m.contains("left over"), "{m}"),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn batches_walks_concatenated_batches() {
    let mut first = encode_batch(&sample(), Codec::None).unwrap().to_vec();
    let mut second = encode_batch(&sample()[..1], Codec::Lz4).unwrap().to_vec();
    set_base_offset(&mut second, 4);
    let mut buf = first.clone();
    buf.append(&mut second);
    let views: Vec<_> = batches(&buf).collect::<Result<_, _>>().unwrap();
    assert_eq!(views.len(), 2);
    assert_eq!(views[1].base_offset(), 4);
    assert_eq!(views[1].records().unwrap()[0].offset, 4);
    assert_eq!(views[0].total_len() + views[1].total_len(), buf.len());

    // A Fetch response may end in a partial batch: one error, then nothing.
    first.truncate(first.len() - 1);
    buf.extend_from_slice(&first);
    let items: Vec<_> = batches(&buf).collect();
    assert_eq!(items.len(), 3);
    assert!(matches!(items[2], Err(BatchError::Truncated { .. })));
    assert_eq!(batches(&[]).count(), 0);
}

#[test]
fn encode_rejects_empty_batches() {
    assert!(matches!(
        encode_batch(&[], Codec::None),
        Err(BatchError::Encode(_))
    ));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = BatchView::parse(&bytes).and_then(|b| b.records());
    }

    #[test]
    fn corrupted_batches_never_panic(
        codec in prop::sample::select(ALL_CODECS.to_vec()),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode_batch(&sample()[..3], codec).unwrap().to_vec();
        for (at, value) in edits {
            let at = at.index(bytes.len());
            // Keep the header valid so the corruption reaches the record decoder.
            if at != MAGIC_AT && !(BATCH_LENGTH_AT..LEADER_EPOCH_AT).contains(&at) {
                bytes[at] = value;
            }
        }
        // The broker's in-place check must accept exactly what decoding accepts, and see
        // the same records: otherwise an acknowledged batch could fail to read back.
        for bytes in [&bytes[..], &bytes[..cut.index(bytes.len())]] {
            let Ok(view) = BatchView::parse(bytes) else { continue };
            let mut checked = Vec::new();
            let check = view.check_records(|r| checked.push(r));
            match view.records() {
                Ok(records) => {
                    prop_assert!(check.is_ok(), "check refused a decodable batch: {check:?}");
                    let decoded: Vec<RecordCheck> = records
                        .iter()
                        .map(|r| RecordCheck { timestamp: r.timestamp, key_is_null: r.key.is_none() })
                        .collect();
                    prop_assert_eq!(checked, decoded);
                }
                Err(e) => prop_assert!(check.is_err(), "check accepted an undecodable batch: {e}"),
            }
        }
    }
}

#[test]
fn set_log_append_time_restamps_every_record_and_keeps_the_crc_valid() {
    let records = vec![
        NewRecord {
            timestamp: 10,
            key: None,
            value: Some(Bytes::from_static(b"a")),
            headers: vec![],
        },
        NewRecord {
            timestamp: 20,
            key: None,
            value: Some(Bytes::from_static(b"b")),
            headers: vec![],
        },
    ];
    let mut bytes = encode_batch(&records, Codec::Lz4).unwrap().to_vec();
    set_log_append_time(&mut bytes, 5_000);
    let view = BatchView::parse(&bytes).unwrap();
    view.verify_crc().unwrap();
    assert!(view.timestamp_type_log_append());
    assert_eq!(view.max_timestamp(), 5_000);
    assert_eq!(view.codec().unwrap(), Codec::Lz4);
    assert!(view.records().unwrap().iter().all(|r| r.timestamp == 5_000));
}

#[test]
fn decompression_bombs_are_refused_not_expanded() {
    // The same bound as MAX_DECOMPRESSED_BYTES, scaled down so the test stays fast.
    let limit = 1 << 20;
    let zeros = Bytes::from(vec![0u8; 2 << 20]);
    for codec in [Codec::Gzip, Codec::Zstd, Codec::Lz4] {
        let compressed = compress(codec, &zeros).unwrap();
        assert!(
            compressed.len() < limit as usize / 8,
            "{codec:?} should compress zeros well"
        );
        match decompress_bounded(codec, &compressed, limit) {
            Err(BatchError::Decompress(m)) => assert!(m.contains("more than"), "{codec:?}: {m}"),
            other => panic!(
                "{codec:?}: expected a refusal, got {:?}",
                other.map(|b| b.len())
            ),
        }
        assert_eq!(
            decompress_bounded(codec, &compressed, 4 << 20)
                .unwrap()
                .len(),
            2 << 20
        );
    }
}

#[test]
fn one_budget_bounds_what_several_batches_decompress_to() {
    let zeros = vec![0u8; 1 << 20];
    let record = [NewRecord {
        key: None,
        value: Some(Bytes::from(zeros)),
        headers: Vec::new(),
        timestamp: 1,
    }];
    for codec in [Codec::Gzip, Codec::Zstd, Codec::Lz4, Codec::Snappy] {
        let batch = encode_batch(&record, codec).unwrap();
        let view = BatchView::parse(&batch).unwrap();
        // Room for two batches and a half.
        let mut budget = DecompressionBudget::new(5 * (1 << 20) / 2);
        for _ in 0..2 {
            let section = view.records_section(&mut budget).unwrap();
            assert!(section.decompressed_len() > 1 << 20);
            view.check_section(&section, |_| {}).unwrap();
        }
        let third = view
            .records_section(&mut budget)
            .map(|s| s.decompressed_len());
        assert!(
            matches!(&third, Err(BatchError::Decompress(m)) if m.contains("more than")),
            "{codec:?}: {third:?}"
        );
        // What the third cost is charged: nothing is left for a fourth.
        if codec != Codec::Snappy {
            assert_eq!(budget.left(), 0, "{codec:?}");
            let fourth = view
                .records_section(&mut budget)
                .map(|s| s.decompressed_len());
            assert!(
                matches!(&fourth, Err(BatchError::Decompress(m)) if m.contains("limit")),
                "{codec:?}: {fourth:?}"
            );
        }
    }
    // An uncompressed batch costs nothing.
    let plain = encode_batch(&sample(), Codec::None).unwrap();
    let mut empty = DecompressionBudget::new(0);
    let view = BatchView::parse(&plain).unwrap();
    let section = view.records_section(&mut empty).unwrap();
    assert_eq!(section.decompressed_len(), 0);
    view.check_section(&section, |_| {}).unwrap();
}

#[test]
fn producer_fields_are_written_inside_the_crc() {
    let bytes = encode_batch_with_producer(&sample(), Codec::Lz4, 42, 3, i32::MAX - 1).unwrap();
    let view = BatchView::parse(&bytes).unwrap();
    view.verify_crc().unwrap();
    assert_eq!(
        (
            view.producer_id(),
            view.producer_epoch(),
            view.base_sequence()
        ),
        (42, 3, i32::MAX - 1)
    );
    assert_eq!(view.records().unwrap(), expected(&sample(), 0));
    let plain = encode_batch(&sample(), Codec::None).unwrap();
    let plain = BatchView::parse(&plain).unwrap();
    assert_eq!(
        (
            plain.producer_id(),
            plain.producer_epoch(),
            plain.base_sequence()
        ),
        (-1, -1, -1)
    );
    // The producer id is covered: changing it breaks the CRC.
    let mut tampered = bytes.to_vec();
    tampered[50] ^= 0x01; // last byte of the producer id (bytes 43..51)
    assert!(BatchView::parse(&tampered).unwrap().verify_crc().is_err());
}

#[test]
fn control_batches_decode_as_markers_with_kafka_protocols_own_decoder() {
    let bytes = encode_control_batch(ControlType::Commit, 7, 2, 5, 1_000);
    let view = BatchView::parse(&bytes).unwrap();
    view.verify_crc().unwrap();
    assert!(view.is_control() && view.is_transactional());
    assert_eq!(
        (
            view.producer_id(),
            view.producer_epoch(),
            view.base_sequence()
        ),
        (7, 2, -1)
    );
    let key = view.records().unwrap()[0].key.clone().unwrap();
    assert_eq!(control_type(&key), Some(ControlType::Commit));
    // An independent decoder agrees on the attributes and the producer fields.
    let mut buf = bytes.clone();
    let decoded = kafka_protocol::records::RecordBatchDecoder::decode(&mut buf).unwrap();
    let r = &decoded.records[0];
    assert!(r.control && r.transactional);
    assert_eq!((r.producer_id, r.producer_epoch, r.sequence), (7, 2, -1));
    let abort = encode_control_batch(ControlType::Abort, 7, 2, 5, 1_000);
    let view = BatchView::parse(&abort).unwrap();
    assert_eq!(
        control_type(&view.records().unwrap()[0].key.clone().unwrap()),
        Some(ControlType::Abort)
    );
}

#[test]
fn transactional_batches_carry_the_transactional_bit_only() {
    let bytes = encode_transactional_batch(&sample(), Codec::None, 3, 0, 0).unwrap();
    let view = BatchView::parse(&bytes).unwrap();
    view.verify_crc().unwrap();
    assert!(view.is_transactional() && !view.is_control());
    assert_eq!(view.codec().unwrap(), Codec::None);
}

#[test]
fn retain_records_keeps_offsets_producer_fields_and_the_last_offset_delta() {
    let records: Vec<NewRecord> = (0..4)
        .map(|i| NewRecord {
            timestamp: 1_000 + i,
            key: Some(Bytes::from(format!("k{i}"))),
            value: (i != 3).then(|| Bytes::from(format!("v{i}"))),
            headers: vec![("h".into(), Some(Bytes::from_static(b"x")))],
        })
        .collect();
    for codec in [Codec::None, Codec::Zstd] {
        let mut bytes =
            BytesMut::from(&encode_batch_with_producer(&records, codec, 7, 2, 40).unwrap()[..]);
        set_base_offset(&mut bytes, 10);
        let view = BatchView::parse(&bytes).unwrap();
        let rewritten = retain_records(&view, |r| r.offset % 2 == 1)
            .unwrap()
            .unwrap();
        let kept = BatchView::parse(&rewritten).unwrap();
        kept.verify_crc().unwrap();
        assert_eq!(kept.base_offset(), 10);
        assert_eq!(kept.last_offset(), 13, "{codec:?}");
        assert_eq!(
            (
                kept.producer_id(),
                kept.producer_epoch(),
                kept.base_sequence()
            ),
            (7, 2, 40)
        );
        assert_eq!(kept.codec().unwrap(), codec);
        let got: Vec<(i64, i64, Option<Bytes>)> = kept
            .records()
            .unwrap()
            .into_iter()
            .map(|r| (r.offset, r.timestamp, r.value))
            .collect();
        assert_eq!(
            got,
            vec![(11, 1_001, Some(Bytes::from("v1"))), (13, 1_003, None)]
        );
        assert!(retain_records(&view, |_| false).unwrap().is_none());
    }
}
