//! Responses that carry stored record batches without copying them.
//!
//! A Fetch answer is mostly record batches the broker already holds as [`Bytes`]. Encoding
//! it the plain way copies each batch twice — once to join a partition's batches into the
//! one `records` field the message has, once more into the response buffer — and both
//! copies land in freshly allocated memory, so the kernel also zeroes every page first.
//! Measured on the benchmark's consume phase, those copies and page faults were a third of
//! the broker's CPU time per record.
//!
//! Instead, a partition's `records` field holds a *placeholder* ([`Splices::add`]): a
//! slice, of the right length, of one region that is never written, whose position
//! in that region names the batches it stands for. `kafka-protocol` still encodes the
//! whole message — every field, every length prefix — into a [`SplicingBuf`], which
//! copies what the encoder writes except a placeholder: there it cuts the buffer and puts
//! the stored batches in the output in its place. The answer is a [`Frame`]: pieces that
//! the connection writes with vectored writes, straight from the stored bytes.
//!
//! A placeholder that reaches any other encoder would be sent as zeros, so placeholders are
//! made only by [`Splices`], whose batches travel with the reply to
//! [`encode_response_frame`]; anything unrecognised is copied as it is.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Range;
use std::sync::OnceLock;

use bytes::buf::UninitSlice;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::Encodable;
use kafka_protocol::protocol::buf::ByteBufMut;

/// The region placeholders are cut from, reserved on first use and never written, so it
/// costs address space, not memory. A partition's records larger than it (beyond any
/// fetch size a client may ask for) are joined and copied instead.
///
/// It is a zeroed allocation rather than a `static [u8; N]`: an immutable static lands in
/// `.rodata`, so every binary linking this crate (each test binary of a crate that embeds
/// broker-sim) grew by the region's 128 MiB on disk. An allocation this large is mapped
/// fresh by the allocator and its zero pages are never touched, so it is never resident.
fn region() -> &'static [u8] {
    static REGION: OnceLock<&'static [u8]> = OnceLock::new();
    REGION.get_or_init(|| vec![0; REGION_LEN].leak())
}
const REGION_LEN: usize = 128 << 20;

/// The stored batches standing behind a response's placeholders, by placeholder number.
#[derive(Debug, Default)]
pub struct Splices {
    batches: Vec<Vec<Bytes>>,
}

impl Splices {
    /// The value for a `records` field made of `batches` (in order): a placeholder when
    /// there is more than one (one batch is already a single [`Bytes`], which the encoder
    /// would copy: it is spliced too), else the batches joined.
    pub fn add(&mut self, batches: Vec<Bytes>) -> Bytes {
        let len: usize = batches.iter().map(Bytes::len).sum();
        let number = self.batches.len();
        if batches.is_empty() || number + len > REGION_LEN {
            return join(&batches);
        }
        self.batches.push(batches);
        Bytes::from_static(&region()[number..number + len])
    }

    /// The batches a `records` field stands for: those behind it if it is one of these
    /// placeholders, else the field itself (for whoever reads an answer before it is sent,
    /// such as the request log).
    pub fn resolve<'a>(&'a self, records: &'a [u8]) -> Vec<&'a [u8]> {
        match self.number(records) {
            Some(n) => self.batches[n].iter().map(|b| &b[..]).collect(),
            None => vec![records],
        }
    }

    /// Which of these placeholders `slice` is, if any.
    fn number(&self, slice: &[u8]) -> Option<usize> {
        let region = region().as_ptr_range();
        let start = slice.as_ptr();
        if slice.is_empty() || !region.contains(&start) {
            return None;
        }
        let number = start as usize - region.start as usize;
        let batches = self.batches.get(number)?;
        let len: usize = batches.iter().map(Bytes::len).sum();
        (len == slice.len()).then_some(number)
    }

    /// The batches behind `slice`, if it is one of this response's placeholders.
    fn take(&mut self, slice: &[u8]) -> Option<Vec<Bytes>> {
        let number = self.number(slice)?;
        Some(std::mem::take(&mut self.batches[number]))
    }

    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

/// `batches` as one [`Bytes`], copied only when there is more than one.
pub fn join(batches: &[Bytes]) -> Bytes {
    match batches {
        [] => Bytes::new(),
        [one] => one.clone(),
        many => {
            let mut out = BytesMut::with_capacity(many.iter().map(Bytes::len).sum());
            for b in many {
                out.extend_from_slice(b);
            }
            out.freeze()
        }
    }
}

/// An encoded response: the pieces to write, in order.
#[derive(Debug, Default)]
pub struct Frame {
    pieces: VecDeque<Bytes>,
    remaining: usize,
}

impl Frame {
    fn push(&mut self, piece: Bytes) {
        if !piece.is_empty() {
            self.remaining += piece.len();
            self.pieces.push_back(piece);
        }
    }

    /// The whole frame in one buffer (a copy): for tests and tools that want the bytes.
    pub fn to_bytes(&self) -> Bytes {
        join(&self.pieces.iter().cloned().collect::<Vec<_>>())
    }
}

impl From<BytesMut> for Frame {
    fn from(bytes: BytesMut) -> Self {
        let mut frame = Frame::default();
        frame.push(bytes.freeze());
        frame
    }
}

impl Buf for Frame {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.pieces.front().map_or(&[], |p| &p[..])
    }

    fn advance(&mut self, mut cnt: usize) {
        cnt = cnt.min(self.remaining);
        self.remaining -= cnt;
        while cnt > 0 {
            let Some(front) = self.pieces.front_mut() else {
                return;
            };
            if cnt < front.len() {
                front.advance(cnt);
                return;
            }
            cnt -= front.len();
            self.pieces.pop_front();
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, piece) in dst.iter_mut().zip(&self.pieces) {
            *slot = IoSlice::new(piece);
            n += 1;
        }
        n
    }
}

/// A [`ByteBufMut`] that copies what is written into it, except placeholders, which it
/// replaces with their batches by reference.
pub struct SplicingBuf {
    head: BytesMut,
    frame: Frame,
    /// The logical length of the pieces already in `frame`.
    before_head: usize,
    splices: Splices,
}

impl SplicingBuf {
    pub fn new(capacity: usize, splices: Splices) -> Self {
        SplicingBuf {
            head: BytesMut::with_capacity(capacity),
            frame: Frame::default(),
            before_head: 0,
            splices,
        }
    }

    /// The frame: a 4-byte size prefix, then everything written.
    fn finish_frame(mut self) -> Frame {
        let size = (self.before_head + self.head.len()) as i32;
        let tail = self.head.split().freeze();
        self.frame.push(tail);
        self.frame.remaining += 4;
        self.frame
            .pieces
            .push_front(Bytes::copy_from_slice(&size.to_be_bytes()));
        self.frame
    }

    /// Everything before the head copied back into it: the fallback for a caller that
    /// reaches behind a splice (message encoders never do).
    fn flatten(&mut self) {
        if self.frame.pieces.is_empty() {
            return;
        }
        let mut all = BytesMut::with_capacity(self.before_head + self.head.len());
        for piece in self.frame.pieces.drain(..) {
            all.extend_from_slice(&piece);
        }
        all.extend_from_slice(&self.head);
        self.frame.remaining = 0;
        self.before_head = 0;
        self.head = all;
    }
}

// SAFETY: every method delegates to the `BytesMut` head, which upholds `BufMut`'s contract.
unsafe impl BufMut for SplicingBuf {
    fn remaining_mut(&self) -> usize {
        self.head.remaining_mut()
    }

    unsafe fn advance_mut(&mut self, cnt: usize) {
        // SAFETY: the caller initialised `cnt` bytes of the head's `chunk_mut`.
        unsafe { self.head.advance_mut(cnt) }
    }

    fn chunk_mut(&mut self) -> &mut UninitSlice {
        self.head.chunk_mut()
    }

    fn put_slice(&mut self, src: &[u8]) {
        match self.splices.take(src) {
            Some(batches) => {
                self.before_head += self.head.len();
                let head = self.head.split().freeze();
                self.frame.push(head);
                for batch in batches {
                    self.before_head += batch.len();
                    self.frame.push(batch);
                }
            }
            None => self.head.extend_from_slice(src),
        }
    }
}

impl ByteBufMut for SplicingBuf {
    fn offset(&self) -> usize {
        self.before_head + self.head.len()
    }

    fn seek(&mut self, offset: usize) {
        if offset < self.before_head {
            self.flatten();
        }
        self.head.resize(offset - self.before_head, 0);
    }

    fn range(&mut self, r: Range<usize>) -> &mut [u8] {
        if r.start < self.before_head {
            self.flatten();
        }
        let base = self.before_head;
        &mut self.head[r.start - base..r.end - base]
    }
}

/// Encodes a whole response frame — size prefix, header, body — into a buffer sized for it
/// up front (growing one would copy it again), with the batches behind
/// `splices`' placeholders in `body` sent from where they are stored.
pub fn encode_response_frame<R: Encodable>(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
    splices: Splices,
) -> Result<Frame, String> {
    let header_version = api_key.response_header_version(version);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let size = header
        .compute_size(header_version)
        .and_then(|h| Ok(h + body.compute_size(version)?))
        .map_err(|e| e.to_string())?;
    // The head holds everything but the spliced batches.
    let spliced: usize = splices.batches.iter().flatten().map(Bytes::len).sum();
    let mut buf = SplicingBuf::new(size.saturating_sub(spliced), splices);
    header
        .encode(&mut buf, header_version)
        .map_err(|e| e.to_string())?;
    body.encode(&mut buf, version).map_err(|e| e.to_string())?;
    Ok(buf.finish_frame())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::FetchResponse;
    use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
    use kafka_protocol::protocol::StrBytes;

    fn fetch(records: Vec<Option<Bytes>>) -> FetchResponse {
        let partitions = records
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                PartitionData::default()
                    .with_partition_index(i as i32)
                    .with_records(r)
            })
            .collect();
        FetchResponse::default().with_responses(vec![
            FetchableTopicResponse::default()
                .with_topic(StrBytes::from_static_str("t").into())
                .with_partitions(partitions),
        ])
    }

    fn flat(mut frame: Frame) -> Vec<u8> {
        let mut out = Vec::new();
        while frame.has_remaining() {
            let chunk = frame.chunk().to_vec();
            frame.advance(chunk.len());
            out.extend(chunk);
        }
        out
    }

    #[test]
    fn a_spliced_answer_is_byte_for_byte_the_copied_one() {
        let a = Bytes::from_static(b"first batch");
        let b = Bytes::from_static(b"second");
        let c = Bytes::from_static(b"third, alone");
        for version in [4, 11, 12, 16] {
            let plain = fetch(vec![
                Some(join(&[a.clone(), b.clone()])),
                None,
                Some(c.clone()),
            ]);
            let expected =
                crate::header::encode_response(ApiKey::Fetch, version, 9, &plain).unwrap();
            let mut splices = Splices::default();
            let first = splices.add(vec![a.clone(), b.clone()]);
            let third = splices.add(vec![c.clone()]);
            let body = fetch(vec![Some(first), None, Some(third)]);
            let frame = encode_response_frame(ApiKey::Fetch, version, 9, &body, splices).unwrap();
            assert!(frame.pieces.len() >= 4, "batches are pieces of their own");
            assert_eq!(frame.remaining(), expected.len());
            assert_eq!(flat(frame), expected.to_vec(), "v{version}");
        }
    }

    #[test]
    fn vectored_chunks_cover_the_frame() {
        let mut splices = Splices::default();
        let records = splices.add(vec![Bytes::from_static(b"xy"), Bytes::from_static(b"z")]);
        let body = fetch(vec![Some(records)]);
        let mut frame = encode_response_frame(ApiKey::Fetch, 12, 1, &body, splices).unwrap();
        let total = frame.remaining();
        let mut slices = [IoSlice::new(&[]); 16];
        let n = frame.chunks_vectored(&mut slices);
        assert_eq!(slices[..n].iter().map(|s| s.len()).sum::<usize>(), total);
        frame.advance(total - 1);
        assert_eq!((frame.remaining(), frame.chunk().len()), (1, 1));
        frame.advance(1);
        assert!(!frame.has_remaining());
    }

    #[test]
    fn an_unknown_placeholder_is_copied_not_spliced() {
        let mut other = Splices::default();
        let stray = other.add(vec![Bytes::from_static(b"abc"), Bytes::from_static(b"d")]);
        let body = fetch(vec![Some(stray.clone())]);
        let frame = encode_response_frame(ApiKey::Fetch, 12, 1, &body, Splices::default()).unwrap();
        let expected = crate::header::encode_response(ApiKey::Fetch, 12, 1, &body).unwrap();
        assert_eq!(flat(frame), expected.to_vec());
    }
}
