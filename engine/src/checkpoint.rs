//! Checkpoints: an interpreter's whole state between cells, as bytes, so a
//! sandbox can be hibernated (evicted, restarted) and resumed with every
//! variable, function, class, module and generator as it was.
//!
//! Between cells an instance's state is its linear memory and its mutable
//! globals (tables and data segments do not change at runtime in this
//! guest). A checkpoint keeps the globals and the 4 KiB chunks of memory
//! that differ from the pre-initialised image every instance starts from.
//! A chunk that still looks like its base chunk (more bytes equal to the
//! base than zero bytes) is stored XOR the base, which is mostly zeros; the
//! rest are stored as they are. The chunks are compressed with zstd in
//! segments of [`SEGMENT_CHUNKS`], so that saving and restoring use every
//! core and a restore decompresses each segment straight into the memory
//! (or through a buffer that stays in cache) instead of through one large
//! allocation.
//!
//! Layout (little-endian):
//!
//! ```text
//! "TSCHKPT\0"  magic
//! u32          FORMAT_VERSION
//! [u8; 32]     SHA-256 of the runtime that wrote it (another build's
//!              memory layout is meaningless to this one)
//! u32          length of the table below, compressed
//! [u8; 32]     SHA-256 of the table, compressed
//! ...          the table, zstd:
//!                u64 memory length, u64 monotonic clock (ns),
//!                u32 n, n x (u32 global index, u8 kind, u64 bits),
//!                u32 m, m x u32 chunk index (ascending),
//!                ceil(m / 8) bytes: bit k set = chunk k is stored XOR base,
//!                u32 s, s x (u32 chunks, u32 compressed length)
//! ...          s segments, each a zstd frame of its chunks (4096 bytes
//!              each) with zstd's content checksum, checked as it is
//!              decompressed (a whole-file SHA-256 cost more than a
//!              millisecond of a typical restore)
//! ```

use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use zstd::bulk::{Compressor, Decompressor};
use zstd::zstd_safe::CParameter;

/// The version of the layout above this engine writes and reads.
pub const FORMAT_VERSION: u32 = 2;

const MAGIC: &[u8; 8] = b"TSCHKPT\0";
const HEADER_BYTES: usize = 8 + 4 + 32 + 4 + 32;
/// The unit of the memory diff.
pub(crate) const CHUNK_BYTES: usize = 4096;
/// Chunks per compressed segment: 1 MiB, which stays in a core's cache
/// while it is copied into place.
const SEGMENT_CHUNKS: usize = 256;
/// At most this many threads save or restore one checkpoint.
const MAX_THREADS: usize = 4;

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
    /// The checksum does not match, or the contents do not decode.
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

fn damaged(what: impl Into<String>) -> CheckpointError {
    CheckpointError::Damaged(what.into())
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

/// An instance's state taken for writing: its changed chunks, uncompressed.
pub(crate) struct Capture {
    /// The linear memory's size in bytes.
    pub(crate) memory_len: u64,
    /// The guest's monotonic clock when it was taken.
    pub(crate) monotonic_ns: u64,
    /// Mutable globals by index.
    pub(crate) globals: Vec<(u32, GlobalValue)>,
    /// Indices of the chunks that differ from the base image, ascending.
    pub(crate) chunks: Vec<u32>,
    /// Bit k set: chunk k is stored XOR its base chunk.
    pub(crate) xor: Vec<u8>,
    /// The chunks' stored bytes, one after another.
    pub(crate) data: Vec<u8>,
}

impl Capture {
    /// The changes of `memory` against `base` (the pre-initialised memory):
    /// every chunk that differs, and every chunk past the base's end that is
    /// not all zeros.
    pub(crate) fn take(
        memory: &[u8],
        base: &[u8],
        monotonic_ns: u64,
        globals: Vec<(u32, GlobalValue)>,
    ) -> Capture {
        let mut capture = Capture {
            memory_len: memory.len() as u64,
            monotonic_ns,
            globals,
            chunks: Vec::new(),
            xor: Vec::new(),
            data: Vec::new(),
        };
        for (i, chunk) in memory.chunks(CHUNK_BYTES).enumerate() {
            let start = i * CHUNK_BYTES;
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            match base.get(start..start + chunk.len()) {
                Some(old) if old != chunk => {
                    let same = chunk.iter().zip(old).filter(|(a, b)| a == b).count();
                    let zeros = chunk.iter().filter(|b| **b == 0).count();
                    if same > zeros {
                        capture.push(index, true, chunk.iter().zip(old).map(|(a, b)| a ^ b));
                    } else {
                        capture.push(index, false, chunk.iter().copied());
                    }
                }
                Some(_) => {}
                None if chunk.iter().any(|b| *b != 0) => {
                    capture.push(index, false, chunk.iter().copied());
                }
                None => {}
            }
        }
        capture
    }

    fn push(&mut self, index: u32, xor: bool, bytes: impl Iterator<Item = u8>) {
        let k = self.chunks.len();
        if k.is_multiple_of(8) {
            self.xor.push(0);
        }
        if xor {
            self.xor[k / 8] |= 1 << (k % 8);
        }
        self.chunks.push(index);
        self.data.extend(bytes);
        self.data.resize(self.chunks.len() * CHUNK_BYTES, 0);
    }

    /// The checkpoint's bytes; `runtime` is the runtime's SHA-256 (hex).
    pub(crate) fn encode(&self, runtime: &str) -> Vec<u8> {
        let pieces: Vec<&[u8]> = self.data.chunks(SEGMENT_CHUNKS * CHUNK_BYTES).collect();
        let segments = on_cores(pieces, |compressor: &mut Option<Compressor>, piece| {
            let compressor = match compressor {
                Some(compressor) => compressor,
                None => compressor.insert(segment_compressor()),
            };
            compressor.compress(piece).unwrap_or_default()
        });
        let mut table = Vec::with_capacity(32 + self.chunks.len() * 5 + segments.len() * 8);
        table.extend_from_slice(&self.memory_len.to_le_bytes());
        table.extend_from_slice(&self.monotonic_ns.to_le_bytes());
        table.extend_from_slice(&(self.globals.len() as u32).to_le_bytes());
        for (index, value) in &self.globals {
            let (kind, bits) = value.kind();
            table.extend_from_slice(&index.to_le_bytes());
            table.push(kind);
            table.extend_from_slice(&bits.to_le_bytes());
        }
        table.extend_from_slice(&(self.chunks.len() as u32).to_le_bytes());
        for index in &self.chunks {
            table.extend_from_slice(&index.to_le_bytes());
        }
        table.extend_from_slice(&self.xor);
        table.extend_from_slice(&(segments.len() as u32).to_le_bytes());
        for (k, segment) in segments.iter().enumerate() {
            let count = (self.chunks.len() - k * SEGMENT_CHUNKS).min(SEGMENT_CHUNKS);
            table.extend_from_slice(&(count as u32).to_le_bytes());
            table.extend_from_slice(&(segment.len() as u32).to_le_bytes());
        }
        let table = zstd::bulk::compress(&table, 3).unwrap_or_default();
        let total = table.len() + segments.iter().map(Vec::len).sum::<usize>();
        let mut out = Vec::with_capacity(HEADER_BYTES + total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&runtime_digest(runtime));
        out.extend_from_slice(&(table.len() as u32).to_le_bytes());
        out.extend_from_slice(&Sha256::digest(&table));
        out.extend_from_slice(&table);
        for segment in &segments {
            out.extend_from_slice(segment);
        }
        out
    }
}

/// A compressed run of chunks in a checkpoint.
#[derive(Debug)]
struct Segment {
    /// Its first chunk's position in [`Image::chunks`].
    first: usize,
    /// How many chunks it holds.
    count: usize,
    /// Where its zstd frame sits in the checkpoint.
    at: usize,
    len: usize,
}

/// A checkpoint read back and checked, its chunks still compressed until
/// [`Image::apply`] writes them into a memory.
#[derive(Debug)]
pub(crate) struct Image {
    /// The linear memory's size in bytes.
    pub(crate) memory_len: u64,
    /// The guest's monotonic clock when it was taken.
    pub(crate) monotonic_ns: u64,
    /// Mutable globals by index.
    pub(crate) globals: Vec<(u32, GlobalValue)>,
    chunks: Vec<u32>,
    xor: Vec<u8>,
    segments: Vec<Segment>,
    bytes: Arc<Vec<u8>>,
}

impl Image {
    /// Reads a checkpoint written by `runtime` for a sandbox that may have
    /// `max_memory` bytes.
    pub(crate) fn decode(
        bytes: Arc<Vec<u8>>,
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
        let table_len = u32::from_le_bytes(bytes[44..48].try_into().unwrap_or_default()) as usize;
        let table_end = HEADER_BYTES
            .checked_add(table_len)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| damaged("truncated table"))?;
        if bytes[48..80] != Sha256::digest(&bytes[HEADER_BYTES..table_end])[..] {
            return Err(damaged("checksum mismatch"));
        }
        // The table is bounded by the memory it describes: five bytes and a
        // bit per chunk, plus the globals and segments.
        let bound = (max_memory / CHUNK_BYTES as u64)
            .saturating_mul(8)
            .saturating_add(1 << 20);
        let table = zstd::bulk::decompress(
            &bytes[HEADER_BYTES..table_end],
            usize::try_from(bound).unwrap_or(usize::MAX),
        )
        .map_err(|e| damaged(format!("table: {e}")))?;
        let mut r = Reader(&table);
        let memory_len = r.u64()?;
        let monotonic_ns = r.u64()?;
        if memory_len > max_memory {
            return Err(CheckpointError::TooLarge {
                needed: memory_len.div_ceil(1 << 20),
                limit: max_memory >> 20,
            });
        }
        if !memory_len.is_multiple_of(64 << 10) {
            return Err(damaged("the memory is not a whole number of pages"));
        }
        let n = r.u32()?;
        let mut globals = Vec::new();
        for _ in 0..n {
            let index = r.u32()?;
            let kind = r.u8()?;
            let bits = r.u64()?;
            let value = GlobalValue::of(kind, bits)
                .ok_or_else(|| damaged(format!("global {index} has kind {kind}")))?;
            globals.push((index, value));
        }
        let m = r.u32()? as usize;
        let mut chunks = Vec::with_capacity(m.min(table.len() / 4));
        let mut next = 0u64;
        for _ in 0..m {
            let index = r.u32()?;
            // Ascending and inside the memory: segments then cover disjoint
            // windows of it.
            if u64::from(index) < next || (u64::from(index) + 1) * CHUNK_BYTES as u64 > memory_len {
                return Err(damaged("memory chunks out of order or outside the memory"));
            }
            next = u64::from(index) + 1;
            chunks.push(index);
        }
        let xor = r.take(m.div_ceil(8))?.to_vec();
        let s = r.u32()? as usize;
        let mut segments = Vec::with_capacity(s.min(m + 1));
        let (mut first, mut at) = (0, table_end);
        for _ in 0..s {
            let count = r.u32()? as usize;
            let len = r.u32()? as usize;
            if count == 0 || count > SEGMENT_CHUNKS || first + count > m {
                return Err(damaged("a segment does not match the chunks"));
            }
            segments.push(Segment {
                first,
                count,
                at,
                len,
            });
            first += count;
            at = at.saturating_add(len);
        }
        if first != m || at != bytes.len() || !r.0.is_empty() {
            return Err(damaged("the segments do not match the chunks"));
        }
        Ok(Image {
            memory_len,
            monotonic_ns,
            globals,
            chunks,
            xor,
            segments,
            bytes,
        })
    }

    /// Writes the changed chunks into `memory`, which holds the base image
    /// grown to [`Image::memory_len`]. Segments are decompressed on up to
    /// [`MAX_THREADS`] cores, each into its own window of the memory.
    pub(crate) fn apply(&self, memory: &mut [u8]) -> Result<(), CheckpointError> {
        let end = self
            .chunks
            .last()
            .map_or(0, |i| (*i as usize + 1) * CHUNK_BYTES);
        if end > memory.len() {
            return Err(damaged("memory chunks outside the memory"));
        }
        let mut work = Vec::with_capacity(self.segments.len());
        let (mut rest, mut rest_at) = (memory, 0);
        for segment in &self.segments {
            let indices = &self.chunks[segment.first..segment.first + segment.count];
            let lo = indices[0] as usize * CHUNK_BYTES;
            let hi = (indices[segment.count - 1] as usize + 1) * CHUNK_BYTES;
            let (_, tail) = std::mem::take(&mut rest).split_at_mut(lo - rest_at);
            let (window, tail) = tail.split_at_mut(hi - lo);
            rest = tail;
            rest_at = hi;
            work.push((segment, window));
        }
        on_cores(work, |scratch: &mut Scratch, (segment, window)| {
            self.apply_segment(segment, window, scratch)
        })
        .into_iter()
        .collect()
    }

    fn is_xor(&self, k: usize) -> bool {
        self.xor[k / 8] & (1 << (k % 8)) != 0
    }

    /// Decompresses one segment into `window`, the memory from its first
    /// chunk to the end of its last.
    fn apply_segment(
        &self,
        segment: &Segment,
        window: &mut [u8],
        scratch: &mut Scratch,
    ) -> Result<(), CheckpointError> {
        let frame = &self.bytes[segment.at..segment.at + segment.len];
        let positions = segment.first..segment.first + segment.count;
        let want = segment.count * CHUNK_BYTES;
        let decompressor = match &mut scratch.decompressor {
            Some(decompressor) => decompressor,
            None => scratch
                .decompressor
                .insert(Decompressor::new().map_err(|e| damaged(format!("zstd: {e}")))?),
        };
        let mut decompress = |into: &mut [u8]| match decompressor.decompress_to_buffer(frame, into)
        {
            Ok(n) if n == want => Ok(()),
            Ok(_) => Err(damaged("a segment is short")),
            Err(e) => Err(damaged(format!("segment: {e}"))),
        };
        // A run of whole chunks stored as they are goes straight in.
        if window.len() == want && !positions.clone().any(|k| self.is_xor(k)) {
            return decompress(window);
        }
        let buffer = &mut scratch.buffer;
        buffer.resize(want, 0);
        decompress(&mut buffer[..])?;
        let lo = self.chunks[segment.first] as usize;
        for (j, k) in positions.enumerate() {
            let at = (self.chunks[k] as usize - lo) * CHUNK_BYTES;
            let into = &mut window[at..at + CHUNK_BYTES];
            let stored = &buffer[j * CHUNK_BYTES..(j + 1) * CHUNK_BYTES];
            if self.is_xor(k) {
                into.iter_mut().zip(stored).for_each(|(b, x)| *b ^= x);
            } else {
                into.copy_from_slice(stored);
            }
        }
        Ok(())
    }
}

/// What a restoring thread reuses from segment to segment.
#[derive(Default)]
struct Scratch {
    decompressor: Option<Decompressor<'static>>,
    /// Where a segment with gaps or XOR chunks is decompressed first.
    buffer: Vec<u8>,
}

/// zstd level 1 (the chunks are mostly small integers and zeros; higher
/// levels cost save time for little), with the content checksum on.
fn segment_compressor() -> Compressor<'static> {
    let mut compressor = Compressor::new(1).unwrap_or_default();
    let _ = compressor.set_parameter(CParameter::ChecksumFlag(true));
    compressor
}

/// `f` over `items` on up to [`MAX_THREADS`] cores (round-robin, so equal
/// items share the work evenly), each thread with a `S` of its own; the
/// results in the items' order.
fn on_cores<T: Send, R: Send, S: Default>(
    items: Vec<T>,
    f: impl Fn(&mut S, T) -> R + Sync,
) -> Vec<R> {
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    });
    let threads = cores.min(items.len());
    if threads <= 1 {
        let mut state = S::default();
        return items.into_iter().map(|item| f(&mut state, item)).collect();
    }
    let mut shares: Vec<Vec<(usize, T)>> = (0..threads).map(|_| Vec::new()).collect();
    for (k, item) in items.into_iter().enumerate() {
        shares[k % threads].push((k, item));
    }
    let run = |share: Vec<(usize, T)>| {
        let mut state = S::default();
        share
            .into_iter()
            .map(|(k, item)| (k, f(&mut state, item)))
            .collect::<Vec<_>>()
    };
    let mut done = std::thread::scope(|scope| {
        let mut shares = shares.into_iter();
        let mine = shares.next().unwrap_or_default();
        let others: Vec<_> = shares.map(|share| scope.spawn(|| run(share))).collect();
        let mut done = run(mine);
        for other in others {
            done.extend(
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        done
    });
    done.sort_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, r)| r).collect()
}

fn runtime_digest(runtime: &str) -> [u8; 32] {
    Sha256::digest(runtime.as_bytes()).into()
}

/// A cursor over the table that fails with "truncated" instead of panicking.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CheckpointError> {
        if self.0.len() < n {
            return Err(damaged("truncated table"));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic noise, so "random" chunks do not compress away.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// A base of noise and a memory that, against it, has: chunks with a
    /// byte changed (stored XOR), chunks replaced (stored as they are), a
    /// long run of replaced chunks (several segments), and a grown tail
    /// with scattered non-zero chunks.
    fn memories() -> (Vec<u8>, Vec<u8>) {
        let base = noise(7, 40 * 65536);
        let mut memory = base.clone();
        memory[5] = memory[5].wrapping_add(1);
        memory[3 * CHUNK_BYTES + 100] ^= 0xff;
        memory[10 * CHUNK_BYTES..11 * CHUNK_BYTES].copy_from_slice(&[0u8; CHUNK_BYTES]);
        let run = 12 * CHUNK_BYTES..(12 + 2 * SEGMENT_CHUNKS + 17) * CHUNK_BYTES;
        let replaced = noise(9, run.len());
        memory[run].copy_from_slice(&replaced);
        memory.extend(vec![0u8; 8 * 65536]);
        let tail = 40 * 65536;
        memory[tail + CHUNK_BYTES + 7] = 9;
        memory[tail + 9 * CHUNK_BYTES..tail + 11 * CHUNK_BYTES]
            .copy_from_slice(&noise(3, 2 * CHUNK_BYTES));
        (base, memory)
    }

    fn restored(bytes: Vec<u8>, base: &[u8]) -> Result<Vec<u8>, CheckpointError> {
        let image = Image::decode(Arc::new(bytes), "abc", 1 << 30)?;
        let mut memory = base.to_vec();
        memory.resize(image.memory_len as usize, 0);
        image.apply(&mut memory)?;
        Ok(memory)
    }

    fn capture() -> (Vec<u8>, Capture) {
        let (base, memory) = memories();
        let capture = Capture::take(
            &memory,
            &base,
            42,
            vec![(0, GlobalValue::I32(1 << 20)), (3, GlobalValue::F64(7))],
        );
        (base, capture)
    }

    #[test]
    fn images_keep_only_changed_chunks_and_restore_the_memory() {
        let (base, memory) = memories();
        let (_, capture) = capture();
        let run = 2 * SEGMENT_CHUNKS + 17;
        assert_eq!(capture.chunks.len(), 3 + run + 2 + 1);
        assert_eq!(&capture.chunks[..3], [0, 3, 10]);
        // Small edits are kept XOR the base; replaced chunks as they are.
        assert_eq!(capture.xor[0] & 0b111, 0b011);
        let bytes = capture.encode("abc");
        assert!(bytes.len() < (run + 8) * CHUNK_BYTES, "{}", bytes.len());
        let image = Image::decode(Arc::new(bytes.clone()), "abc", 1 << 30).unwrap();
        assert_eq!(
            image.segments.len(),
            capture.chunks.len().div_ceil(SEGMENT_CHUNKS)
        );
        assert_eq!(image.monotonic_ns, 42);
        assert_eq!(image.globals, capture.globals);
        assert!(restored(bytes, &base).unwrap() == memory);
    }

    #[test]
    fn an_unchanged_memory_is_an_empty_image() {
        let base = noise(1, 65536);
        let capture = Capture::take(&base, &base, 0, Vec::new());
        assert!(capture.chunks.is_empty());
        assert!(restored(capture.encode("abc"), &base).unwrap() == base);
    }

    #[test]
    fn foreign_damaged_truncated_and_oversized_images_are_refused() {
        let (base, capture) = capture();
        let bytes = capture.encode("abc");
        let decode =
            |bytes: &[u8], runtime, max| Image::decode(Arc::new(bytes.to_vec()), runtime, max);
        assert!(matches!(
            decode(&bytes, "other", 1 << 30),
            Err(CheckpointError::OtherRuntime)
        ));
        // A flipped bit in the table fails its SHA-256; one in a segment,
        // that segment's zstd checksum as it is restored.
        for at in [HEADER_BYTES + 3, bytes.len() / 2, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1;
            assert!(
                matches!(restored(flipped, &base), Err(CheckpointError::Damaged(_))),
                "{at}"
            );
        }
        for cut in [0, 10, HEADER_BYTES, HEADER_BYTES + 1, bytes.len() - 1] {
            assert!(decode(&bytes[..cut], "abc", 1 << 30).is_err(), "{cut}");
        }
        let mut version = bytes.clone();
        version[8] = 9;
        assert!(matches!(
            decode(&version, "abc", 1 << 30),
            Err(CheckpointError::Format(_))
        ));
        assert!(matches!(
            decode(&bytes, "abc", 65536),
            Err(CheckpointError::TooLarge { .. })
        ));
    }

    /// A table that lies, with a valid checksum (as an image written by a
    /// faulty build would be): refused before any memory is written.
    #[test]
    fn inconsistent_tables_are_refused() {
        let (_, good) = capture();
        let mut unordered = capture().1;
        unordered.chunks.swap(1, 2);
        let mut outside = capture().1;
        *outside.chunks.last_mut().unwrap() = (good.memory_len / CHUNK_BYTES as u64) as u32;
        let mut ragged = capture().1;
        ragged.memory_len += 1;
        let mut missing = capture().1;
        missing.data.truncate(missing.data.len() - CHUNK_BYTES);
        for (name, capture) in [
            ("unordered", unordered),
            ("outside", outside),
            ("ragged", ragged),
            ("missing", missing),
        ] {
            let bytes = capture.encode("abc");
            let result = Image::decode(Arc::new(bytes), "abc", 1 << 30)
                .and_then(|image| image.apply(&mut vec![0; good.memory_len as usize]));
            assert!(
                matches!(result, Err(CheckpointError::Damaged(_))),
                "{name}: {result:?}"
            );
        }
    }
}
