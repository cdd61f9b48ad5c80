//! Kafka record batches (magic 2) as zero-copy views over the bytes clients send.
//!
//! A broker mostly moves batches around untouched: it reads a few header fields, stamps a
//! base offset and leader epoch, stores the bytes, and hands the same bytes back on Fetch.
//! [`BatchView`] therefore borrows the batch and reads header fields straight from it, and
//! the two in-place setters touch only fields that sit before the CRC-covered range, so a
//! client's CRC stays valid. Decoding records ([`BatchView::records`]) is the exception,
//! used where the simulator has to look inside (validation, test helpers, assertions).
//!
//! The codecs are pure Rust, so that a crate embedding broker-sim builds without a C
//! toolchain: gzip (flate2 on miniz_oxide) and snappy (snap) through `kafka-protocol`'s
//! wrappers, LZ4 frames with `lz4_flex` and zstd frames with `ruzstd`. Decompression reads
//! through a size limit, because every byte here comes from an untrusted client: any
//! malformed input, decompression bombs included, must surface as a [`BatchError`], never
//! as a panic or an unbounded allocation.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::compression::{Compressor, Decompressor, Gzip, Snappy};

/// Bytes from the start of a batch up to its first record.
pub const BATCH_HEADER_LEN: usize = 61;
/// The only record-batch format version this module understands.
pub const MAGIC_V2: i8 = 2;

/// baseOffset + batchLength: the part of a batch that batchLength does not count.
const LOG_OVERHEAD: usize = 12;
const MIN_BATCH_LENGTH: i32 = (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32;

const BASE_OFFSET_AT: usize = 0;
const BATCH_LENGTH_AT: usize = 8;
const LEADER_EPOCH_AT: usize = 12;
const MAGIC_AT: usize = 16;
const CRC_AT: usize = 17;
const ATTRIBUTES_AT: usize = 21;
const MAX_TIMESTAMP_AT: usize = 35;

const CODEC_MASK: i16 = 0x07;
const TIMESTAMP_TYPE_BIT: i16 = 0x08;
const TRANSACTIONAL_BIT: i16 = 0x10;
const CONTROL_BIT: i16 = 0x20;

/// Compression codec of a batch, from attribute bits 0-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

impl Codec {
    /// The codec for the wire id in attribute bits 0-2.
    pub fn from_id(id: u8) -> Result<Codec, BatchError> {
        match id {
            0 => Ok(Codec::None),
            1 => Ok(Codec::Gzip),
            2 => Ok(Codec::Snappy),
            3 => Ok(Codec::Lz4),
            4 => Ok(Codec::Zstd),
            other => Err(BatchError::UnknownCodec(other)),
        }
    }

    /// The wire id written into attribute bits 0-2.
    pub fn id(self) -> u8 {
        self as u8
    }
}

/// Everything that can be wrong with a batch's bytes.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The buffer ends before the batch does. At the end of a Fetch response this is
    /// normal (brokers may cut the last batch short), elsewhere it is corruption.
    #[error("record batch truncated: needs {needed} bytes but only {available} are available")]
    Truncated { needed: usize, available: usize },
    #[error("unsupported record batch magic {0} (only magic 2 is supported)")]
    BadMagic(i8),
    #[error(
        "record batch CRC mismatch: header says {expected:#010x}, bytes hash to {actual:#010x}"
    )]
    BadCrc { expected: u32, actual: u32 },
    #[error("record batch length {0} is below the {MIN_BATCH_LENGTH}-byte minimum")]
    BadLength(i32),
    #[error("unknown compression codec id {0}")]
    UnknownCodec(u8),
    #[error("failed to decompress records: {0}")]
    Decompress(String),
    #[error("malformed record: {0}")]
    MalformedRecord(String),
    #[error("record batch declares {declared} records but holds {found}")]
    RecordCount { declared: i32, found: usize },
    #[error("cannot encode record batch: {0}")]
    Encode(String),
}

/// Header fields as big-endian reads at fixed offsets; `parse` guarantees they are in range.
macro_rules! be_getters {
    ($($name:ident: $ty:ty = $at:expr;)*) => {$(
        pub fn $name(&self) -> $ty {
            <$ty>::from_be_bytes(self.field($at))
        }
    )*};
}

/// A view over one batch's bytes. Does not copy.
#[derive(Debug, Clone, Copy)]
pub struct BatchView<'a> {
    /// Exactly one batch; at least [`BATCH_HEADER_LEN`] bytes, which `parse` guarantees.
    bytes: &'a [u8],
}

impl<'a> BatchView<'a> {
    /// Parses the header of the first batch in `buf`; checks magic == 2 and that
    /// batchLength is sane (>= 49, and 12 + batchLength <= buf.len()). Does NOT check the
    /// CRC (call [`BatchView::verify_crc`]), because a broker that only relays bytes may
    /// not want to pay for it.
    pub fn parse(buf: &'a [u8]) -> Result<BatchView<'a>, BatchError> {
        let truncated = |needed| BatchError::Truncated {
            needed,
            available: buf.len(),
        };
        let Some(length_bytes) = buf.get(BATCH_LENGTH_AT..LOG_OVERHEAD) else {
            return Err(truncated(BATCH_HEADER_LEN));
        };
        // Magic first when we can see it: old-format (magic 0/1) messages have a different
        // layout, and "bad magic" is a far better diagnosis for them than "bad length".
        let magic = buf.get(MAGIC_AT).map(|&m| m as i8);
        if let Some(magic) = magic.filter(|&m| m != MAGIC_V2) {
            return Err(BatchError::BadMagic(magic));
        }
        let batch_length = i32::from_be_bytes(array(length_bytes));
        if batch_length < MIN_BATCH_LENGTH {
            return Err(BatchError::BadLength(batch_length));
        }
        let total = LOG_OVERHEAD + batch_length as usize;
        let bytes = buf.get(..total).ok_or_else(|| truncated(total))?;
        Ok(BatchView { bytes })
    }

    /// Exactly this batch (12 + batchLength bytes).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// 12 + batchLength: how far to skip to reach the next batch.
    pub fn total_len(&self) -> usize {
        self.bytes.len()
    }

    fn field<const N: usize>(&self, at: usize) -> [u8; N] {
        array(&self.bytes[at..at + N])
    }

    be_getters! {
        base_offset: i64 = BASE_OFFSET_AT;
        batch_length: i32 = BATCH_LENGTH_AT;
        partition_leader_epoch: i32 = LEADER_EPOCH_AT;
        magic: i8 = MAGIC_AT;
        crc: u32 = CRC_AT;
        attributes: i16 = ATTRIBUTES_AT;
        last_offset_delta: i32 = 23;
        base_timestamp: i64 = 27;
        max_timestamp: i64 = 35;
        producer_id: i64 = 43;
        producer_epoch: i16 = 51;
        base_sequence: i32 = 53;
        records_count: i32 = 57;
    }

    pub fn codec(&self) -> Result<Codec, BatchError> {
        Codec::from_id((self.attributes() & CODEC_MASK) as u8)
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes() & TRANSACTIONAL_BIT != 0
    }

    pub fn is_control(&self) -> bool {
        self.attributes() & CONTROL_BIT != 0
    }

    /// True when the broker, not the producer, set the timestamps (LogAppendTime).
    pub fn timestamp_type_log_append(&self) -> bool {
        self.attributes() & TIMESTAMP_TYPE_BIT != 0
    }

    /// base_offset + last_offset_delta. Wraps rather than panics on absurd client values.
    pub fn last_offset(&self) -> i64 {
        self.base_offset()
            .wrapping_add(i64::from(self.last_offset_delta()))
    }

    /// CRC-32C of everything from the attributes to the end of the batch.
    pub fn compute_crc(&self) -> u32 {
        crc32c::crc32c(&self.bytes[ATTRIBUTES_AT..])
    }

    pub fn verify_crc(&self) -> Result<(), BatchError> {
        let (expected, actual) = (self.crc(), self.compute_crc());
        if expected == actual {
            Ok(())
        } else {
            Err(BatchError::BadCrc { expected, actual })
        }
    }

    /// Decompresses (any codec) and decodes every record. Offsets are absolute
    /// (base + delta); timestamps are absolute (base + delta), except that with
    /// LogAppendTime every record's timestamp is the batch's max_timestamp, as consumers
    /// see it. Fails if the records do not add up to exactly `records_count`.
    pub fn records(&self) -> Result<Vec<DecodedRecord>, BatchError> {
        let Some(payload) = self.payload(&mut DecompressionBudget::new(MAX_DECOMPRESSED_BYTES))?
        else {
            return Ok(Vec::new());
        };
        let payload = match payload {
            Payload::Borrowed(bytes) => Bytes::copy_from_slice(bytes),
            Payload::Owned(bytes) => bytes,
        };
        // The declared count is client input: never let it size an allocation on its own.
        let declared = self.records_count();
        let mut out = Vec::with_capacity((declared as usize).min(payload.len()));
        self.walk_records(&payload, |record| {
            let mut headers = Vec::new();
            for_each_header(record.headers, |key, value| {
                headers.push((key.to_owned(), value.map(|v| payload.slice_ref(v))));
            })?;
            out.push(DecodedRecord {
                offset: record.offset,
                timestamp: record.timestamp,
                key: record.key.map(|k| payload.slice_ref(k)),
                value: record.value.map(|v| payload.slice_ref(v)),
                headers,
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// Checks every record the way [`BatchView::records`] decodes it, without copying or
    /// allocating for an uncompressed batch, and hands each record's absolute timestamp and
    /// whether its key is null to `each`: what a broker validates before it appends.
    pub fn check_records(&self, each: impl FnMut(RecordCheck)) -> Result<(), BatchError> {
        let section =
            self.records_section(&mut DecompressionBudget::new(MAX_DECOMPRESSED_BYTES))?;
        self.check_section(&section, each)
    }

    /// The records section, decompressed if it has to be, charged to `budget`: a broker
    /// decompresses once, outside any lock, and walks the section as often as it needs
    /// ([`BatchView::check_section`]). A batch that would decompress to more than what is
    /// left of the budget (or than [`MAX_DECOMPRESSED_BYTES`]) fails as a decompression
    /// error, and what it cost is charged all the same.
    pub fn records_section(
        &self,
        budget: &mut DecompressionBudget,
    ) -> Result<RecordsSection<'a>, BatchError> {
        self.payload(budget).map(RecordsSection)
    }

    /// [`BatchView::check_records`] over a section [`BatchView::records_section`] gave.
    pub fn check_section(
        &self,
        section: &RecordsSection<'_>,
        mut each: impl FnMut(RecordCheck),
    ) -> Result<(), BatchError> {
        let payload = match &section.0 {
            None => return Ok(()),
            Some(Payload::Borrowed(bytes)) => bytes,
            Some(Payload::Owned(bytes)) => &bytes[..],
        };
        self.walk_records(payload, |record| {
            for_each_header(record.headers, |_, _| {})?;
            each(RecordCheck {
                timestamp: record.timestamp,
                key_is_null: record.key.is_none(),
            });
            Ok(())
        })
    }

    /// The records section, decompressed if it has to be; `None` for an empty batch.
    fn payload(&self, budget: &mut DecompressionBudget) -> Result<Option<Payload<'a>>, BatchError> {
        let codec = self.codec()?;
        let declared = self.records_count();
        if declared < 0 {
            return Err(BatchError::RecordCount { declared, found: 0 });
        }
        let compressed = &self.bytes[BATCH_HEADER_LEN..];
        // Some codecs reject empty input outright, but an empty batch (left behind by
        // compaction) is legitimate.
        if compressed.is_empty() && declared == 0 {
            return Ok(None);
        }
        Ok(Some(match codec {
            Codec::None => Payload::Borrowed(compressed),
            codec => Payload::Owned(budget.decompress(codec, compressed)?),
        }))
    }

    /// Walks exactly `records_count` records of `payload`, checking their framing.
    fn walk_records<'p>(
        &self,
        payload: &'p [u8],
        mut each: impl FnMut(RecordRef<'p>) -> Result<(), BatchError>,
    ) -> Result<(), BatchError> {
        let declared = self.records_count();
        let mut cursor = Cursor::new(payload);
        for index in 0..declared {
            if cursor.remaining() == 0 {
                return Err(BatchError::RecordCount {
                    declared,
                    found: index as usize,
                });
            }
            let record = self.walk_record(&mut cursor).map_err(|e| match e {
                BatchError::MalformedRecord(m) => {
                    BatchError::MalformedRecord(format!("record {index}: {m}"))
                }
                other => other,
            })?;
            each(record)?;
        }
        if cursor.remaining() != 0 {
            return Err(BatchError::MalformedRecord(format!(
                "{} bytes left over after the declared {declared} records",
                cursor.remaining()
            )));
        }
        Ok(())
    }

    fn walk_record<'p>(&self, outer: &mut Cursor<'p>) -> Result<RecordRef<'p>, BatchError> {
        let length = outer.varint("record length")?;
        let mut r = outer.sub_cursor(length, "record")?;
        r.take(1, "record attributes")?; // no record-level attribute is defined yet
        let timestamp_delta = r.varlong("timestamp delta")?;
        let offset_delta = r.varint("offset delta")?;
        let key = r.nullable_bytes("key")?;
        let value = r.nullable_bytes("value")?;
        // The rest of the record is its headers: a count, then key/value pairs.
        let headers = r.rest();
        let timestamp = if self.timestamp_type_log_append() {
            self.max_timestamp()
        } else {
            self.base_timestamp().wrapping_add(timestamp_delta)
        };
        Ok(RecordRef {
            offset: self.base_offset().wrapping_add(i64::from(offset_delta)),
            timestamp,
            key,
            value,
            headers,
        })
    }
}

/// What [`BatchView::check_records`] reports of each record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordCheck {
    /// Absolute; the batch's max timestamp under LogAppendTime.
    pub timestamp: i64,
    pub key_is_null: bool,
}

/// A batch's records section: borrowed from the batch unless it had to be decompressed.
enum Payload<'a> {
    Borrowed(&'a [u8]),
    Owned(Bytes),
}

/// A batch's records section, decompressed once ([`BatchView::records_section`]); `None`
/// inside for an empty batch.
pub struct RecordsSection<'a>(Option<Payload<'a>>);

impl RecordsSection<'_> {
    /// The bytes decompression produced (0 for an uncompressed batch).
    pub fn decompressed_len(&self) -> usize {
        match &self.0 {
            Some(Payload::Owned(bytes)) => bytes.len(),
            _ => 0,
        }
    }
}

/// How many bytes the batches of one request may decompress to, together: a request of
/// many small decompression bombs then costs one bomb's work, not one per batch. Each
/// batch is also held to [`MAX_DECOMPRESSED_BYTES`] on its own.
#[derive(Debug, Clone)]
pub struct DecompressionBudget {
    total: u64,
    left: u64,
}

impl DecompressionBudget {
    pub fn new(total: u64) -> Self {
        DecompressionBudget { total, left: total }
    }

    /// Bytes still allowed.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// Decompresses `data` within the budget, charging what the codec produced, even when
    /// it failed (a bomb stopped at the limit costs the limit).
    fn decompress(&mut self, codec: Codec, data: &[u8]) -> Result<Bytes, BatchError> {
        if self.left == 0 {
            return Err(BatchError::Decompress(format!(
                "{codec:?}: the request's records already decompressed to the limit of {} bytes",
                self.total
            )));
        }
        let limit = self.left.min(MAX_DECOMPRESSED_BYTES);
        let (result, produced) = decompress_counted(codec, data, limit);
        self.left = self.left.saturating_sub(produced);
        result
    }
}

/// One record's parts, borrowed from the records section.
struct RecordRef<'p> {
    offset: i64,
    timestamp: i64,
    key: Option<&'p [u8]>,
    value: Option<&'p [u8]>,
    /// The header count and headers, still encoded: see [`for_each_header`].
    headers: &'p [u8],
}

/// Walks a record's header section (a count, then key/value pairs), checking that it is
/// exactly that.
fn for_each_header<'p>(
    section: &'p [u8],
    mut each: impl FnMut(&'p str, Option<&'p [u8]>),
) -> Result<(), BatchError> {
    let mut r = Cursor::new(section);
    let header_count = r.varint("header count")?;
    if header_count < 0 {
        return Err(malformed(format!("negative header count {header_count}")));
    }
    for _ in 0..header_count {
        let key_len = r.varint("header key length")?;
        if key_len < 0 {
            return Err(malformed(format!(
                "header key length {key_len} (header keys cannot be null)"
            )));
        }
        let key = r.take(key_len as usize, "header key")?;
        let key = std::str::from_utf8(key)
            .map_err(|e| malformed(format!("header key is not UTF-8: {e}")))?;
        each(key, r.nullable_bytes("header value")?);
    }
    if r.remaining() != 0 {
        return Err(malformed(format!(
            "record leaves {} bytes unread after its headers",
            r.remaining()
        )));
    }
    Ok(())
}

/// Iterates the batches in a buffer that holds several batches back to back (as Fetch
/// responses and produce requests do). Yields `Err` once and stops on a malformed batch;
/// a [`BatchError::Truncated`] last item means the buffer ended inside a batch.
pub fn batches(buf: &[u8]) -> impl Iterator<Item = Result<BatchView<'_>, BatchError>> {
    let mut rest = buf;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || rest.is_empty() {
            return None;
        }
        match BatchView::parse(rest) {
            Ok(view) => {
                rest = &rest[view.total_len()..];
                Some(Ok(view))
            }
            Err(e) => {
                failed = true;
                Some(Err(e))
            }
        }
    })
}

/// Rewrites the base offset in place, as a broker does when it appends a batch. The field
/// is outside the CRC-covered range, so the CRC stays valid.
///
/// # Panics
/// If `batch.len() < BATCH_HEADER_LEN`. Callers pass batches that [`BatchView::parse`]
/// accepted, so that is a caller bug, not bad input.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
    write_header_field(batch, BASE_OFFSET_AT, &base_offset.to_be_bytes());
}

/// Rewrites the partition leader epoch in place. Outside the CRC, like the base offset.
///
/// # Panics
/// If `batch.len() < BATCH_HEADER_LEN`, as for [`set_base_offset`].
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
    write_header_field(batch, LEADER_EPOCH_AT, &epoch.to_be_bytes());
}

/// Stamps the batch with the broker's append time, as Kafka does for topics with
/// `message.timestamp.type=LogAppendTime`: sets the timestamp-type attribute, writes
/// `timestamp` as the max timestamp (every record then reads as that time) and refreshes
/// the CRC, which covers both fields.
///
/// # Panics
/// If `batch.len() < BATCH_HEADER_LEN`, as for [`set_base_offset`].
pub fn set_log_append_time(batch: &mut [u8], timestamp: i64) {
    let attributes = i16::from_be_bytes([batch[ATTRIBUTES_AT], batch[ATTRIBUTES_AT + 1]]);
    write_header_field(
        batch,
        ATTRIBUTES_AT,
        &(attributes | TIMESTAMP_TYPE_BIT).to_be_bytes(),
    );
    write_header_field(batch, MAX_TIMESTAMP_AT, &timestamp.to_be_bytes());
    let crc = crc32c::crc32c(&batch[ATTRIBUTES_AT..]);
    write_header_field(batch, CRC_AT, &crc.to_be_bytes());
}

fn write_header_field(batch: &mut [u8], at: usize, value: &[u8]) {
    assert!(
        batch.len() >= BATCH_HEADER_LEN,
        "record batch of {} bytes is shorter than its {BATCH_HEADER_LEN}-byte header",
        batch.len()
    );
    batch[at..at + value.len()].copy_from_slice(value);
}

/// One record, with offset and timestamp already made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRecord {
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    /// In wire order; keys may repeat, which Kafka allows and clients rely on.
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// A record to put into [`encode_batch`]. `timestamp` is absolute milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// Builds one magic-2 batch, compressed with `codec`, the way a plain (non-idempotent)
/// producer would: base offset 0, leader epoch -1, no producer id (-1/-1/-1), CreateTime,
/// record offsets 0..n, base timestamp from the first record. Used by the broker's
/// "produce from a test" helper and by tests. An empty `records` is an error, since no
/// producer sends an empty batch.
pub fn encode_batch(records: &[NewRecord], codec: Codec) -> Result<Bytes, BatchError> {
    encode_batch_with_producer(records, codec, -1, -1, -1)
}

/// The same batch as an idempotent producer sends it: `producer_id`, `producer_epoch` and
/// the `base_sequence` of its first record in the header, inside the CRC-covered range.
pub fn encode_batch_with_producer(
    records: &[NewRecord],
    codec: Codec,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
) -> Result<Bytes, BatchError> {
    encode(
        records,
        codec,
        producer_id,
        producer_epoch,
        base_sequence,
        0,
    )
}

/// The same batch as a transactional producer sends it: the idempotent producer's fields
/// and the transactional attribute bit.
pub fn encode_transactional_batch(
    records: &[NewRecord],
    codec: Codec,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
) -> Result<Bytes, BatchError> {
    encode(
        records,
        codec,
        producer_id,
        producer_epoch,
        base_sequence,
        TRANSACTIONAL_BIT,
    )
}

/// How a transaction ended, as its control record (marker) says: the record key's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlType {
    Abort = 0,
    Commit = 1,
}

/// The control batch a transaction coordinator has written to every partition of a
/// transaction when it ends: transactional and control attribute bits, the producer's id
/// and epoch, no sequence (-1), and one record whose key is (version 0, type) and whose
/// value is (version 0, coordinator epoch), as Kafka's `EndTransactionMarker` lays them
/// out. Consumers never hand it to the application; read_committed ones use it to know
/// where a transaction ends.
pub fn encode_control_batch(
    control: ControlType,
    producer_id: i64,
    producer_epoch: i16,
    coordinator_epoch: i32,
    timestamp: i64,
) -> Bytes {
    let mut key = BytesMut::with_capacity(4);
    key.put_i16(0);
    key.put_i16(control as i16);
    let mut value = BytesMut::with_capacity(6);
    value.put_i16(0);
    value.put_i32(coordinator_epoch);
    let record = NewRecord {
        timestamp,
        key: Some(key.freeze()),
        value: Some(value.freeze()),
        headers: Vec::new(),
    };
    encode(
        &[record],
        Codec::None,
        producer_id,
        producer_epoch,
        -1,
        TRANSACTIONAL_BIT | CONTROL_BIT,
    )
    .expect("a one-record uncompressed batch always encodes")
}

/// The control type of a control batch's record key, if it is one Kafka defines.
pub fn control_type(key: &[u8]) -> Option<ControlType> {
    match key {
        [_, _, 0, 0, ..] => Some(ControlType::Abort),
        [_, _, 0, 1, ..] => Some(ControlType::Commit),
        _ => None,
    }
}

fn encode(
    records: &[NewRecord],
    codec: Codec,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    attributes: i16,
) -> Result<Bytes, BatchError> {
    if records.is_empty() {
        return Err(BatchError::Encode(
            "a record batch needs at least one record".into(),
        ));
    }
    let count = wire_len(records.len(), "record count")?;
    let numbered: Vec<(i32, &NewRecord)> = (0..count).zip(records).collect();
    encode_header(
        &numbered,
        &Header {
            base_offset: 0,
            leader_epoch: -1,
            attributes: i16::from(codec.id()) | attributes,
            last_offset_delta: count - 1,
            max_timestamp: None,
            producer_id,
            producer_epoch,
            base_sequence,
        },
    )
}

/// The header fields of a batch being encoded.
struct Header {
    base_offset: i64,
    leader_epoch: i32,
    /// Codec bits included.
    attributes: i16,
    last_offset_delta: i32,
    /// The batch's max timestamp, when it is not the records' (LogAppendTime).
    max_timestamp: Option<i64>,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
}

/// Encodes `records`, each with its offset delta, under `header`.
fn encode_header(records: &[(i32, &NewRecord)], header: &Header) -> Result<Bytes, BatchError> {
    let (_, first) = records
        .first()
        .ok_or_else(|| BatchError::Encode("a record batch needs at least one record".into()))?;
    let count = wire_len(records.len(), "record count")?;
    let base_timestamp = first.timestamp;
    let max_timestamp = header.max_timestamp.unwrap_or_else(|| {
        records
            .iter()
            .map(|(_, r)| r.timestamp)
            .fold(base_timestamp, i64::max)
    });

    let mut body = BytesMut::new();
    let mut record = BytesMut::new();
    for (offset_delta, r) in records {
        record.clear();
        record.put_i8(0);
        put_varlong(&mut record, r.timestamp.wrapping_sub(base_timestamp));
        put_varint(&mut record, *offset_delta);
        put_nullable_bytes(&mut record, r.key.as_deref())?;
        put_nullable_bytes(&mut record, r.value.as_deref())?;
        put_varint(&mut record, wire_len(r.headers.len(), "header count")?);
        for (key, value) in &r.headers {
            put_nullable_bytes(&mut record, Some(key.as_bytes()))?;
            put_nullable_bytes(&mut record, value.as_deref())?;
        }
        put_varint(&mut body, wire_len(record.len(), "record length")?);
        body.extend_from_slice(&record);
    }

    let codec = Codec::from_id((header.attributes & CODEC_MASK) as u8)?;
    let payload = compress(codec, &body)?;
    let batch_length = wire_len(
        payload.len() + BATCH_HEADER_LEN - LOG_OVERHEAD,
        "batch length",
    )?;
    let mut out = BytesMut::with_capacity(BATCH_HEADER_LEN + payload.len());
    out.put_i64(header.base_offset);
    out.put_i32(batch_length);
    out.put_i32(header.leader_epoch);
    out.put_i8(MAGIC_V2);
    out.put_u32(0); // CRC, filled in below once the covered bytes exist
    out.put_i16(header.attributes);
    out.put_i32(header.last_offset_delta);
    out.put_i64(base_timestamp);
    out.put_i64(max_timestamp);
    out.put_i64(header.producer_id);
    out.put_i16(header.producer_epoch);
    out.put_i32(header.base_sequence);
    out.put_i32(count);
    out.extend_from_slice(&payload);
    let crc = crc32c::crc32c(&out[ATTRIBUTES_AT..]);
    out[CRC_AT..ATTRIBUTES_AT].copy_from_slice(&crc.to_be_bytes());
    Ok(out.freeze())
}

/// The batch with only the records `keep` selects, as Kafka's log cleaner rewrites a batch
/// (`MemoryRecords.filterTo`): the same base offset, last offset delta (so the producer's
/// last sequence survives), producer fields, attributes, leader epoch and codec, each kept
/// record at its original offset and timestamp. `None` when no record is kept.
pub fn retain_records(
    view: &BatchView<'_>,
    mut keep: impl FnMut(&DecodedRecord) -> bool,
) -> Result<Option<Bytes>, BatchError> {
    let kept: Vec<(i32, NewRecord)> = view
        .records()?
        .into_iter()
        .filter(|r| keep(r))
        .map(|r| {
            let delta = i32::try_from(r.offset.wrapping_sub(view.base_offset()))
                .map_err(|_| malformed(format!("offset {} outside its batch", r.offset)))?;
            Ok((
                delta,
                NewRecord {
                    timestamp: r.timestamp,
                    key: r.key,
                    value: r.value,
                    headers: r.headers,
                },
            ))
        })
        .collect::<Result<_, BatchError>>()?;
    if kept.is_empty() {
        return Ok(None);
    }
    let numbered: Vec<(i32, &NewRecord)> = kept.iter().map(|(d, r)| (*d, r)).collect();
    encode_header(
        &numbered,
        &Header {
            base_offset: view.base_offset(),
            leader_epoch: view.partition_leader_epoch(),
            attributes: view.attributes(),
            last_offset_delta: view.last_offset_delta(),
            max_timestamp: view
                .timestamp_type_log_append()
                .then(|| view.max_timestamp()),
            producer_id: view.producer_id(),
            producer_epoch: view.producer_epoch(),
            base_sequence: view.base_sequence(),
        },
    )
    .map(Some)
}

/// Copies a slice whose length the caller has already established into an array.
fn array<const N: usize>(slice: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(slice);
    out
}

fn malformed(message: String) -> BatchError {
    BatchError::MalformedRecord(message)
}

fn wire_len(len: usize, what: &str) -> Result<i32, BatchError> {
    i32::try_from(len)
        .map_err(|_| BatchError::Encode(format!("{what} {len} does not fit in an i32")))
}

/// The most a batch may decompress to. Kafka sets no explicit bound (the JVM heap does), but
/// a broker inside a test process must not let a few kilobytes of zstd or gzip claim
/// gigabytes: past this the batch is refused as corrupt.
pub const MAX_DECOMPRESSED_BYTES: u64 = 256 * 1024 * 1024;

/// Decompresses `data` (any codec but `None`) to at most `limit` bytes: for payloads
/// other than record batches that use the same codecs (KIP-714 telemetry).
pub fn decompress_limited(codec: Codec, data: &[u8], limit: u64) -> Result<Bytes, BatchError> {
    decompress_bounded(codec, data, limit)
}

fn decompress_bounded(codec: Codec, data: &[u8], limit: u64) -> Result<Bytes, BatchError> {
    decompress_counted(codec, data, limit).0
}

/// Decompresses `data` to at most `limit` bytes; also returns how many bytes the codec
/// produced, failure or not, for [`DecompressionBudget`].
fn decompress_counted(codec: Codec, data: &[u8], limit: u64) -> (Result<Bytes, BatchError>, u64) {
    let failed = |e: &dyn std::fmt::Display| BatchError::Decompress(format!("{codec:?}: {e:#}"));
    let mut produced = 0u64;
    let result = match codec {
        // Callers borrow an uncompressed section instead (`BatchView::payload`); a copy keeps
        // this function total.
        Codec::None => Ok(Bytes::copy_from_slice(data)),
        Codec::Snappy => {
            // Bounded up front: no length preamble may claim more than snappy can expand
            // to, nor, together, more than the limit.
            check_snappy_lengths(data, limit).and_then(|()| {
                let mut input = data;
                Snappy::decompress(&mut input, |b: &mut Bytes| Ok(std::mem::take(b)))
                    .map_err(|e| failed(&e))
            })
        }
        // The streaming decoders are read through a limit, so a decompression bomb stops at
        // the limit instead of exhausting memory.
        Codec::Gzip => read_bounded(flate2::read::GzDecoder::new(data), limit, &mut produced)
            .map_err(|e| failed(&e)),
        Codec::Lz4 => read_bounded(
            lz4_flex::frame::FrameDecoder::new(data),
            limit,
            &mut produced,
        )
        .map_err(|e| failed(&e)),
        Codec::Zstd => {
            read_bounded(ZstdFrames::new(data), limit, &mut produced).map_err(|e| failed(&e))
        }
    };
    if let Ok(bytes) = &result {
        produced = bytes.len() as u64;
    }
    (result, produced)
}

/// Reads `reader` to its end, failing past `limit` bytes; `produced` is how many bytes
/// were read, whatever the outcome.
fn read_bounded(
    reader: impl std::io::Read,
    limit: u64,
    produced: &mut u64,
) -> std::io::Result<Bytes> {
    use std::io::Read;
    let mut out = Vec::new();
    let read = reader.take(limit + 1).read_to_end(&mut out);
    *produced = out.len() as u64;
    read?;
    if out.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "decompresses to more than {limit} bytes"
        )));
    }
    Ok(Bytes::from(out))
}

/// The zstd frames of one payload, read one after the other as the reference decoder
/// does (a producer writes one frame, but the format allows several, and skippable frames
/// between them). Each frame's content checksum, when it has one, is verified: ruzstd
/// reads it but leaves the check to the caller.
struct ZstdFrames<'a> {
    rest: &'a [u8],
    frame: Option<ruzstd::decoding::StreamingDecoder<&'a [u8], ruzstd::decoding::FrameDecoder>>,
}

impl<'a> ZstdFrames<'a> {
    fn new(data: &'a [u8]) -> Self {
        ZstdFrames {
            rest: data,
            frame: None,
        }
    }
}

impl std::io::Read for ZstdFrames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use ruzstd::decoding::StreamingDecoder;
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = &mut self.frame {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                let decoder = &frame.decoder;
                if let (Some(sent), Some(computed)) = (
                    decoder.get_checksum_from_data(),
                    decoder.get_calculated_checksum(),
                ) && sent != computed
                {
                    return Err(std::io::Error::other(format!(
                        "frame checksum {sent:#010x} does not match its content ({computed:#010x})"
                    )));
                }
                self.rest = self.frame.take().map_or(&[][..], |f| f.into_inner());
                continue;
            }
            if self.rest.is_empty() {
                return Ok(0);
            }
            // The default window limit (128 MiB, as the reference decoder's) bounds what a
            // frame header can make the decoder reserve.
            match StreamingDecoder::new(self.rest) {
                Ok(frame) => self.frame = Some(frame),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    // Magic number and length, then `length` bytes of skipped content.
                    let skipped = 8usize.saturating_add(length as usize);
                    self.rest = self.rest.get(skipped..).ok_or_else(|| {
                        std::io::Error::other("skippable frame runs past the end of the data")
                    })?;
                }
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
    }
}

fn compress(codec: Codec, body: &[u8]) -> Result<BytesMut, BatchError> {
    let mut out = BytesMut::new();
    let fill = |buf: &mut BytesMut| {
        buf.extend_from_slice(body);
        Ok(())
    };
    let failed = |e: &dyn std::fmt::Display| {
        BatchError::Encode(format!("{codec:?} compression failed: {e:#}"))
    };
    match codec {
        Codec::None => out.extend_from_slice(body),
        Codec::Gzip => Gzip::compress(&mut out, fill).map_err(|e| failed(&e))?,
        // kafka-protocol writes xerial framing, which is what the Java client sends and
        // what every consumer (Java, librdkafka, kafka-protocol) accepts.
        Codec::Snappy => Snappy::compress(&mut out, fill).map_err(|e| failed(&e))?,
        Codec::Lz4 => compress_lz4(&mut out, body).map_err(|e| failed(&e))?,
        // ruzstd's fastest level (about zstd's level 1) is the best it implements; it
        // cannot fail writing to memory.
        Codec::Zstd => ruzstd::encoding::compress(
            body,
            (&mut out).writer(),
            ruzstd::encoding::CompressionLevel::Fastest,
        ),
    }
    Ok(out)
}

/// One LZ4 frame as Kafka's producers write it: independent 64 KiB blocks with a content
/// checksum (what kafka-protocol wrote with the C library, and what the Java client's LZ4
/// reader and librdkafka both accept).
fn compress_lz4(out: &mut BytesMut, body: &[u8]) -> std::io::Result<()> {
    use lz4_flex::frame::{BlockMode, FrameEncoder, FrameInfo};
    use std::io::Write;
    let info = FrameInfo::new()
        .block_mode(BlockMode::Independent)
        .content_checksum(true);
    let mut encoder = FrameEncoder::with_frame_info(info, out.writer());
    encoder.write_all(body)?;
    encoder.finish()?;
    Ok(())
}

/// The 16-byte stream header of xerial snappy-java framing, compared in full because that
/// is how kafka-protocol decides between framed and raw snappy (librdkafka sends raw).
const XERIAL_HEADER: &[u8; 16] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";

/// No snappy element yields more than 64 output bytes per 3 input bytes (a 2-byte-offset
/// copy), so a block claiming more than this multiple of its size cannot be valid.
const SNAPPY_MAX_EXPANSION: u64 = 22;

/// Rejects snappy input whose length preambles claim impossible sizes before kafka-protocol
/// sees it: it allocates (and for framed input zero-fills) the claimed size up front, so a
/// 5-byte preamble could otherwise cost the broker 4 GiB. Claims adding up to more than
/// `total` are refused as a bomb the streaming codecs would stop at.
fn check_snappy_lengths(data: &[u8], total: u64) -> Result<(), BatchError> {
    let mut claimed_so_far = 0u64;
    let mut check_block = |block: &[u8]| {
        // An unreadable preamble is left for the decoder to report.
        let Ok((claimed, _)) = read_uvarint(block, 5) else {
            return Ok(());
        };
        let limit = (block.len() as u64).saturating_mul(SNAPPY_MAX_EXPANSION);
        if claimed > limit {
            return Err(BatchError::Decompress(format!(
                "Snappy: block of {} bytes claims {claimed} uncompressed bytes",
                block.len()
            )));
        }
        claimed_so_far = claimed_so_far.saturating_add(claimed);
        if claimed_so_far > total {
            return Err(BatchError::Decompress(format!(
                "Snappy: decompresses to more than {total} bytes"
            )));
        }
        Ok(())
    };
    let Some(mut rest) = data.strip_prefix(XERIAL_HEADER.as_slice()) else {
        return check_block(data);
    };
    while let Some((len, after)) = rest.split_first_chunk::<4>() {
        let len = u32::from_be_bytes(*len) as usize;
        let Some(block) = after.get(..len) else {
            return Ok(());
        };
        check_block(block)?;
        rest = &after[len..];
    }
    Ok(())
}

/// Reads a base-128 varint of at most `max_bytes` bytes; returns it and its length.
fn read_uvarint(buf: &[u8], max_bytes: usize) -> Result<(u64, usize), &'static str> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().take(max_bytes).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    if buf.len() < max_bytes {
        Err("truncated varint")
    } else {
        Err("varint is too long")
    }
}

/// Reads records out of a records section, borrowing keys and values from it. A record's
/// own cursor (`sub_cursor`) ends where the record does.
struct Cursor<'p> {
    data: &'p [u8],
    pos: usize,
}

impl<'p> Cursor<'p> {
    fn new(data: &'p [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Everything not read yet.
    fn rest(&mut self) -> &'p [u8] {
        let rest = &self.data[self.pos..];
        self.pos = self.data.len();
        rest
    }

    fn uvarint(&mut self, max_bytes: usize, what: &str) -> Result<u64, BatchError> {
        let (value, used) = read_uvarint(&self.data[self.pos..], max_bytes)
            .map_err(|e| malformed(format!("{what}: {e}")))?;
        self.pos += used;
        Ok(value)
    }

    fn varint(&mut self, what: &str) -> Result<i32, BatchError> {
        // Like Java's reader, bits beyond 32 in a 5-byte varint are dropped.
        let raw = self.uvarint(5, what)? as u32;
        Ok((raw >> 1) as i32 ^ -((raw & 1) as i32))
    }

    fn varlong(&mut self, what: &str) -> Result<i64, BatchError> {
        let raw = self.uvarint(10, what)?;
        Ok((raw >> 1) as i64 ^ -((raw & 1) as i64))
    }

    fn take(&mut self, len: usize, what: &str) -> Result<&'p [u8], BatchError> {
        if len > self.remaining() {
            return Err(malformed(format!(
                "{what} needs {len} bytes but only {} remain",
                self.remaining()
            )));
        }
        let bytes = &self.data[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    /// A varint length followed by that many bytes; -1 means null.
    fn nullable_bytes(&mut self, what: &str) -> Result<Option<&'p [u8]>, BatchError> {
        match self.varint(what)? {
            -1 => Ok(None),
            len if len < 0 => Err(malformed(format!("{what} has invalid length {len}"))),
            len => self.take(len as usize, what).map(Some),
        }
    }

    /// Splits off the next `len` bytes as their own cursor and skips past them here.
    fn sub_cursor(&mut self, len: i32, what: &str) -> Result<Cursor<'p>, BatchError> {
        let len = usize::try_from(len)
            .map_err(|_| malformed(format!("{what} has negative length {len}")))?;
        let data = self.take(len, what).map_err(|_| {
            malformed(format!(
                "{what} length {len} exceeds the {} bytes left",
                self.remaining()
            ))
        })?;
        Ok(Cursor::new(data))
    }
}

fn put_uvarint(buf: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

fn put_varint(buf: &mut BytesMut, value: i32) {
    put_uvarint(buf, u64::from(((value << 1) ^ (value >> 31)) as u32));
}

fn put_varlong(buf: &mut BytesMut, value: i64) {
    put_uvarint(buf, ((value << 1) ^ (value >> 63)) as u64);
}

fn put_nullable_bytes(buf: &mut BytesMut, value: Option<&[u8]>) -> Result<(), BatchError> {
    match value {
        None => put_varint(buf, -1),
        Some(bytes) => {
            put_varint(buf, wire_len(bytes.len(), "field length")?);
            buf.extend_from_slice(bytes);
        }
    }
    Ok(())
}

#[cfg(test)]
mod reference_frames;
#[cfg(test)]
mod tests;
