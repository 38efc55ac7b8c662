//! Opens an input and undoes its compression, told by magic bytes (not the file name,
//! which lies as often as not): gzip (also concatenated members, as Firehose writes),
//! zstd, bzip2, or plain.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::inputs::Input;

/// A reader that adds the bytes it reads (before decompression) to a shared counter,
/// for progress reporting.
pub struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the raw bytes were compressed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Bzip2,
}

impl Compression {
    pub(crate) fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
            Compression::Bzip2
        } else {
            Compression::None
        }
    }
}

/// Opens `input` and returns a reader of its decompressed bytes.
pub fn open(
    input: &Input,
    counter: Arc<AtomicU64>,
) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(io::stdin()),
        Input::File { path, .. } => Box::new(File::open(path)?),
        Input::Remote(r) => (r.open)()?,
    };
    let mut buffered = BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: raw,
            counter,
        },
    );
    let head = buffered.fill_buf()?;
    let compression = Compression::sniff(head);
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(buffered)),
    };
    Ok((reader, compression))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn roundtrip(bytes: &[u8]) -> (Vec<u8>, Compression) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        let input = Input::File {
            path: path.clone(),
            display: Arc::from("f"),
            root: None,
        };
        let (mut r, c) = open(&input, Arc::default()).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (out, c)
    }

    #[test]
    fn decompresses_by_magic_bytes() {
        let text = b"hello\nworld\n".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).unwrap();
        let mut gz = gz.finish().unwrap();
        // A second gzip member, as Firehose concatenates them.
        let mut gz2 = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz2.write_all(b"more\n").unwrap();
        gz.extend(gz2.finish().unwrap());
        let (out, c) = roundtrip(&gz);
        assert_eq!(c, Compression::Gzip);
        assert_eq!(out, [text.clone(), b"more\n".to_vec()].concat());

        let zs = zstd::encode_all(&text[..], 3).unwrap();
        assert_eq!(roundtrip(&zs), (text.clone(), Compression::Zstd));

        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&text).unwrap();
        assert_eq!(
            roundtrip(&bz.finish().unwrap()),
            (text.clone(), Compression::Bzip2)
        );

        assert_eq!(roundtrip(&text), (text, Compression::None));
    }
}
