//! Length-prefixed framing: every Kafka request and response is a 4-byte big-endian size
//! followed by that many bytes.
//!
//! The size is checked against a limit *before* anything is allocated, so a hostile or
//! corrupt prefix (say 2 GiB) closes the connection instead of exhausting memory. The limit
//! defaults to Kafka's `socket.request.max.bytes`.

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Kafka's default `socket.request.max.bytes` (100 MiB).
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 100 * 1024 * 1024;

/// The largest frame whose buffer is reserved whole as soon as its size is read; a larger
/// one's buffer starts at this size and grows as its bytes arrive.
const EAGER_RESERVATION: usize = 8 * 1024 * 1024;

/// Why a frame could not be read. Each variant ends the connection.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame of {size} bytes exceeds the maximum request size of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("negative frame size {0}")]
    NegativeSize(i32),
    #[error("connection closed in the middle of a frame")]
    Truncated,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads one frame's payload (without its size prefix). `Ok(None)` is a clean end of stream
/// between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max_size: usize,
) -> Result<Option<BytesMut>, FrameError> {
    let mut prefix = [0u8; 4];
    // A clean close is only clean if it happens before the first byte of the prefix.
    let first = reader.read(&mut prefix).await?;
    if first == 0 {
        return Ok(None);
    }
    if first < 4 {
        reader
            .read_exact(&mut prefix[first..])
            .await
            .map_err(eof_is_truncation)?;
    }
    let size = i32::from_be_bytes(prefix);
    if size < 0 {
        return Err(FrameError::NegativeSize(size));
    }
    let size = size as usize;
    if size > max_size {
        return Err(FrameError::TooLarge {
            size,
            max: max_size,
        });
    }
    // Read straight into reserved capacity: zero-filling first would touch every byte of a
    // large produce request once more for nothing. A frame of the size clients send (up to
    // 8 MiB) gets its whole buffer at once, so its bytes are read into it with no copy on
    // the way (growing a buffer copies it, into fresh pages the kernel zeroes first: that
    // was a fifth of the broker's CPU per produced record). Untouched reserved pages cost
    // address space, not memory; beyond 8 MiB the buffer grows as the bytes arrive, so a
    // client that announces 100 MiB and sends a few bytes holds at most 8 MiB of it.
    let mut payload = BytesMut::with_capacity(size.min(EAGER_RESERVATION));
    while payload.len() < size {
        if payload.len() == payload.capacity() {
            // Doubling keeps the copies amortised to one per byte.
            payload.reserve(payload.len().min(size - payload.len()).max(1));
        }
        let wanted = size - payload.len();
        if reader.read_buf(&mut (&mut payload).limit(wanted)).await? == 0 {
            return Err(FrameError::Truncated);
        }
    }
    Ok(Some(payload))
}

fn eof_is_truncation(e: std::io::Error) -> FrameError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        FrameError::Truncated
    } else {
        FrameError::Io(e)
    }
}

/// Reserves room for a size prefix at the start of `buf`; pair with [`finish_frame`] once the
/// body is written, so the body is encoded straight into the output buffer.
pub fn begin_frame(buf: &mut BytesMut) -> usize {
    let start = buf.len();
    buf.put_i32(0);
    start
}

/// Writes the size of everything after the prefix reserved at `start`.
pub fn finish_frame(buf: &mut BytesMut, start: usize) {
    let size = (buf.len() - start - 4) as i32;
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_frames_back_to_back_and_clean_eof() {
        let mut input: &[u8] = &[0, 0, 0, 2, 7, 8, 0, 0, 0, 0];
        assert_eq!(
            &read_frame(&mut input, 10).await.unwrap().unwrap()[..],
            &[7, 8]
        );
        assert!(
            read_frame(&mut input, 10)
                .await
                .unwrap()
                .unwrap()
                .is_empty()
        );
        assert!(read_frame(&mut input, 10).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn oversized_frame_is_refused_before_allocation() {
        let mut input: &[u8] = &[0x7f, 0xff, 0xff, 0xff];
        match read_frame(&mut input, DEFAULT_MAX_REQUEST_SIZE).await {
            Err(FrameError::TooLarge { size, .. }) => assert_eq!(size, i32::MAX as usize),
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn negative_and_truncated_frames_are_errors() {
        let mut neg: &[u8] = &[0xff, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_frame(&mut neg, 10).await,
            Err(FrameError::NegativeSize(-1))
        ));
        let mut short: &[u8] = &[0, 0, 0, 5, 1, 2];
        assert!(matches!(
            read_frame(&mut short, 10).await,
            Err(FrameError::Truncated)
        ));
        let mut half_prefix: &[u8] = &[0, 0];
        assert!(matches!(
            read_frame(&mut half_prefix, 10).await,
            Err(FrameError::Truncated)
        ));
    }

    #[tokio::test]
    async fn a_frame_larger_than_the_first_reservation_reads_whole() {
        let body: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let mut input = (body.len() as u32).to_be_bytes().to_vec();
        input.extend_from_slice(&body);
        let mut reader = &input[..];
        let frame = read_frame(&mut reader, DEFAULT_MAX_REQUEST_SIZE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&frame[..], &body[..]);
    }

    #[test]
    fn begin_and_finish_frame_write_the_body_size() {
        let mut buf = BytesMut::new();
        let start = begin_frame(&mut buf);
        buf.put_slice(b"abc");
        finish_frame(&mut buf, start);
        assert_eq!(&buf[..], &[0, 0, 0, 3, b'a', b'b', b'c']);
    }
}
