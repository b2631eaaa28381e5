//! Checkpoints: an interpreter's whole state between cells, as bytes, so a
//! sandbox can be hibernated (evicted, restarted) and resumed with every
//! variable, function, class, module and generator as it was.
//!
//! Between cells an instance's state is its linear memory and its mutable
//! globals (tables and data segments do not change at runtime in this
//! guest). A checkpoint keeps the globals and the 4 KiB chunks of memory
//! that differ from the pre-initialised image every instance starts from,
//! compressed with zstd; a typical session's image is a few hundred KB.
//!
//! Layout (little-endian):
//!
//! ```text
//! "TSCHKPT\0"  magic
//! u32          FORMAT_VERSION
//! [u8; 32]     SHA-256 of the runtime that wrote it (another build's
//!              memory layout is meaningless to this one)
//! u64          length of the body, uncompressed
//! [u8; 32]     SHA-256 of the compressed body
//! ...          the body, zstd:
//!                u64 memory length, u64 monotonic clock (ns),
//!                u32 n, n x (u32 global index, u8 kind, u64 bits),
//!                u32 m, m x u32 chunk index, then the m chunks
//!                (4096 bytes each), so a restore copies them from the
//!                decompressed body straight into memory
//! ```

use sha2::{Digest, Sha256};

/// The version of the layout above this engine writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const MAGIC: &[u8; 8] = b"TSCHKPT\0";
const HEADER_BYTES: usize = 8 + 4 + 32 + 8 + 32;
/// The unit of the memory diff.
pub(crate) const CHUNK_BYTES: usize = 4096;

/// Why a checkpoint cannot be restored. The sandbox is then started fresh
/// (and says `state_reset: true`); the image is the embedder's to keep for
/// inspection.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not a checkpoint, or one of a layout this engine does not read.
    #[error("not a checkpoint of format version {FORMAT_VERSION} ({0})")]
    Format(String),
    /// Written by another build of the Python runtime.
    #[error("the checkpoint was written by another build of the Python runtime")]
    OtherRuntime,
    /// The checksum does not match, or the body does not decode.
    #[error("the checkpoint is damaged ({0})")]
    Damaged(String),
    /// Its memory is larger than this sandbox may have.
    #[error("the checkpoint needs {needed} MiB of memory; this sandbox may have {limit} MiB")]
    TooLarge {
        /// MiB the image's memory takes.
        needed: u64,
        /// The sandbox's limit, MiB.
        limit: u64,
    },
}

/// A global's value, as its type and bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GlobalValue {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
}

impl GlobalValue {
    fn kind(self) -> (u8, u64) {
        match self {
            GlobalValue::I32(v) => (0, u64::from(v)),
            GlobalValue::I64(v) => (1, v),
            GlobalValue::F32(v) => (2, u64::from(v)),
            GlobalValue::F64(v) => (3, v),
        }
    }

    fn of(kind: u8, bits: u64) -> Option<GlobalValue> {
        Some(match kind {
            0 => GlobalValue::I32(u32::try_from(bits).ok()?),
            1 => GlobalValue::I64(bits),
            2 => GlobalValue::F32(u32::try_from(bits).ok()?),
            3 => GlobalValue::F64(bits),
            _ => return None,
        })
    }
}

/// What a checkpoint holds.
#[derive(Default)]
pub(crate) struct Image {
    /// The linear memory's size in bytes.
    pub(crate) memory_len: u64,
    /// The guest's monotonic clock when it was taken.
    pub(crate) monotonic_ns: u64,
    /// Mutable globals by index.
    pub(crate) globals: Vec<(u32, GlobalValue)>,
    /// Indices of the chunks that differ from the base image.
    pub(crate) chunks: Vec<u32>,
    /// Those chunks' bytes, one after another, from `data_at` on.
    data: Vec<u8>,
    data_at: usize,
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("memory_len", &self.memory_len)
            .field("monotonic_ns", &self.monotonic_ns)
            .field("globals", &self.globals)
            .field("chunks", &self.chunks.len())
            .finish()
    }
}

/// Equal state: the same memory size, clock, globals and changed chunks,
/// wherever their bytes sit.
impl PartialEq for Image {
    fn eq(&self, other: &Image) -> bool {
        self.memory_len == other.memory_len
            && self.monotonic_ns == other.monotonic_ns
            && self.globals == other.globals
            && self.chunks == other.chunks
            && (0..self.chunks.len()).all(|k| self.chunk(k) == other.chunk(k))
    }
}

impl Image {
    /// The image of `memory` against `base` (the pre-initialised memory):
    /// every chunk that differs, and every chunk past the base's end that is
    /// not all zeros.
    pub(crate) fn capture(
        memory: &[u8],
        base: &[u8],
        monotonic_ns: u64,
        globals: Vec<(u32, GlobalValue)>,
    ) -> Image {
        let zeros = [0u8; CHUNK_BYTES];
        let mut chunks = Vec::new();
        let mut data = Vec::new();
        for (i, chunk) in memory.chunks(CHUNK_BYTES).enumerate() {
            let start = i * CHUNK_BYTES;
            let differs = match base.get(start..start + chunk.len()) {
                Some(old) => old != chunk,
                None => chunk != &zeros[..chunk.len()],
            };
            if differs {
                chunks.push(u32::try_from(i).unwrap_or(u32::MAX));
                data.extend_from_slice(chunk);
                data.resize(chunks.len() * CHUNK_BYTES, 0);
            }
        }
        Image {
            memory_len: memory.len() as u64,
            monotonic_ns,
            globals,
            chunks,
            data,
            data_at: 0,
        }
    }

    /// The `k`th changed chunk's bytes.
    pub(crate) fn chunk(&self, k: usize) -> &[u8] {
        let start = self.data_at + k * CHUNK_BYTES;
        &self.data[start..start + CHUNK_BYTES]
    }

    /// The checkpoint's bytes; `runtime` is the runtime's SHA-256 (hex).
    pub(crate) fn encode(&self, runtime: &str) -> Vec<u8> {
        let mut body = Vec::with_capacity(24 + self.chunks.len() * 4 + self.data.len());
        body.extend_from_slice(&self.memory_len.to_le_bytes());
        body.extend_from_slice(&self.monotonic_ns.to_le_bytes());
        body.extend_from_slice(&(self.globals.len() as u32).to_le_bytes());
        for (index, value) in &self.globals {
            let (kind, bits) = value.kind();
            body.extend_from_slice(&index.to_le_bytes());
            body.push(kind);
            body.extend_from_slice(&bits.to_le_bytes());
        }
        body.extend_from_slice(&(self.chunks.len() as u32).to_le_bytes());
        for index in &self.chunks {
            body.extend_from_slice(&index.to_le_bytes());
        }
        body.extend_from_slice(&self.data[self.data_at..]);
        // Level 1: the body is mostly small integers and zeros; higher
        // levels cost save time for little.
        let compressed = zstd::bulk::compress(&body, 1).unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER_BYTES + compressed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&runtime_digest(runtime));
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&compressed));
        out.extend_from_slice(&compressed);
        out
    }

    /// Reads a checkpoint written by `runtime` for a sandbox that may have
    /// `max_memory` bytes.
    pub(crate) fn decode(
        bytes: &[u8],
        runtime: &str,
        max_memory: u64,
    ) -> Result<Image, CheckpointError> {
        if bytes.len() < HEADER_BYTES || &bytes[..8] != MAGIC {
            return Err(CheckpointError::Format("no checkpoint header".into()));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
        if version != FORMAT_VERSION {
            return Err(CheckpointError::Format(format!("it is version {version}")));
        }
        if bytes[12..44] != runtime_digest(runtime) {
            return Err(CheckpointError::OtherRuntime);
        }
        let body_len = u64::from_le_bytes(bytes[44..52].try_into().unwrap_or_default());
        if bytes[52..84] != Sha256::digest(&bytes[HEADER_BYTES..])[..] {
            return Err(CheckpointError::Damaged("checksum mismatch".into()));
        }
        // The body is bounded by the memory it describes, plus its framing.
        let bound = max_memory
            .saturating_add(max_memory / 512)
            .saturating_add(1 << 20);
        if body_len > bound {
            return Err(CheckpointError::TooLarge {
                needed: body_len >> 20,
                limit: max_memory >> 20,
            });
        }
        let body = zstd::bulk::decompress(
            &bytes[HEADER_BYTES..],
            usize::try_from(body_len).unwrap_or(usize::MAX),
        )
        .map_err(|e| CheckpointError::Damaged(format!("body: {e}")))?;
        let image = parse_body(body)?;
        if image.memory_len > max_memory {
            return Err(CheckpointError::TooLarge {
                needed: image.memory_len.div_ceil(1 << 20),
                limit: max_memory >> 20,
            });
        }
        let chunks_fit = image
            .chunks
            .iter()
            .all(|i| (u64::from(*i) + 1) * CHUNK_BYTES as u64 <= image.memory_len);
        if !chunks_fit || image.memory_len % (64 << 10) != 0 {
            return Err(CheckpointError::Damaged(
                "memory chunks outside the memory".into(),
            ));
        }
        Ok(image)
    }
}

fn runtime_digest(runtime: &str) -> [u8; 32] {
    Sha256::digest(runtime.as_bytes()).into()
}

/// A cursor over the body that fails with "truncated" instead of panicking.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CheckpointError> {
        if self.0.len() < n {
            return Err(CheckpointError::Damaged("truncated body".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, CheckpointError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, CheckpointError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }

    fn u64(&mut self) -> Result<u64, CheckpointError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
}

fn parse_body(body: Vec<u8>) -> Result<Image, CheckpointError> {
    let mut r = Reader(&body);
    let memory_len = r.u64()?;
    let monotonic_ns = r.u64()?;
    let n = r.u32()?;
    let mut globals = Vec::new();
    for _ in 0..n {
        let index = r.u32()?;
        let kind = r.u8()?;
        let bits = r.u64()?;
        let value = GlobalValue::of(kind, bits)
            .ok_or_else(|| CheckpointError::Damaged(format!("global {index} has kind {kind}")))?;
        globals.push((index, value));
    }
    let m = r.u32()? as usize;
    let mut chunks = Vec::with_capacity(m.min(1 << 20));
    for _ in 0..m {
        chunks.push(r.u32()?);
    }
    if r.0.len() != m * CHUNK_BYTES {
        return Err(CheckpointError::Damaged(
            "the chunks do not match their count".into(),
        ));
    }
    // The chunks are the body's tail: they stay where they are.
    let data_at = body.len() - r.0.len();
    Ok(Image {
        memory_len,
        monotonic_ns,
        globals,
        chunks,
        data: body,
        data_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Image {
        let base = vec![0u8; 4 * 65536];
        let mut memory = base.clone();
        memory[5] = 1;
        memory.extend(vec![0u8; 65536]);
        memory[4 * 65536 + CHUNK_BYTES + 7] = 9;
        Image::capture(
            &memory,
            &base,
            42,
            vec![(0, GlobalValue::I32(1 << 20)), (3, GlobalValue::F64(7))],
        )
    }

    #[test]
    fn images_round_trip_and_keep_only_changed_chunks() {
        let image = image();
        assert_eq!(image.chunks, [0, 65]);
        assert_eq!(image.chunk(0)[5], 1);
        assert_eq!(image.chunk(1)[7], 9);
        let bytes = image.encode("abc");
        assert!(bytes.len() < 2048, "{}", bytes.len());
        assert_eq!(Image::decode(&bytes, "abc", 1 << 30).unwrap(), image);
    }

    #[test]
    fn foreign_damaged_truncated_and_oversized_images_are_refused() {
        let bytes = image().encode("abc");
        assert!(matches!(
            Image::decode(&bytes, "other", 1 << 30),
            Err(CheckpointError::OtherRuntime)
        ));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            Image::decode(&flipped, "abc", 1 << 30),
            Err(CheckpointError::Damaged(_))
        ));
        for cut in [0, 10, HEADER_BYTES, bytes.len() - 1] {
            assert!(
                Image::decode(&bytes[..cut], "abc", 1 << 30).is_err(),
                "{cut}"
            );
        }
        let mut version = bytes.clone();
        version[8] = 9;
        assert!(matches!(
            Image::decode(&version, "abc", 1 << 30),
            Err(CheckpointError::Format(_))
        ));
        assert!(matches!(
            Image::decode(&bytes, "abc", 65536),
            Err(CheckpointError::TooLarge { .. })
        ));
    }
}
