//! A bounds-checked reader over one request's bytes: every read says how much it needs and
//! fails, never panics, when the buffer is shorter.

use std::ffi::CStr;

use crate::kernel::Wire;

/// Why a request could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the header or an argument needs.
    Short { what: &'static str, need: usize, have: usize },
    /// A string argument has no terminating NUL inside the message.
    Unterminated(&'static str),
    /// The header's length disagrees with the bytes received.
    BadLength { header: u32, received: usize },
    /// The extension area is larger than the message.
    BadExtensions { extlen: usize, len: usize },
    /// A count field asks for more entries than the message holds.
    BadCount { what: &'static str, count: u64 },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Short { what, need, have } => {
                write!(f, "{what}: need {need} bytes, message has {have}")
            }
            DecodeError::Unterminated(what) => write!(f, "{what}: string not NUL-terminated"),
            DecodeError::BadLength { header, received } => {
                write!(f, "header length {header} but {received} bytes received")
            }
            DecodeError::BadExtensions { extlen, len } => {
                write!(f, "extensions of {extlen} bytes in a {len}-byte message")
            }
            DecodeError::BadCount { what, count } => write!(f, "{what}: count {count} too large"),
        }
    }
}

/// Reads from the front of a byte slice.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The unread bytes, consuming them.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Short { what, need: n, have: self.buf.len() });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Copy out a whole wire struct.
    pub fn fetch<T: Wire>(&mut self, what: &'static str) -> Result<T, DecodeError> {
        self.fetch_prefix(std::mem::size_of::<T>(), what)
    }

    /// Copy out the first `n` bytes of a wire struct (older protocol versions send shorter
    /// structs); the remaining fields stay zero.
    pub fn fetch_prefix<T: Wire>(
        &mut self,
        n: usize,
        what: &'static str,
    ) -> Result<T, DecodeError> {
        let n = n.min(std::mem::size_of::<T>());
        let src = self.bytes(n, what)?;
        let mut v = T::default();
        // SAFETY: T is Wire (any bit pattern is valid, no padding); `src` holds `n` bytes and
        // `n` is at most size_of::<T>(), so the copy stays inside `v`.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), (&raw mut v).cast::<u8>(), n) };
        Ok(v)
    }

    /// Like [`fetch`](Self::fetch), but a short buffer yields the bytes there are, zero-padded
    /// (INIT's argument grew over the years; libfuse reads what the kernel sent).
    pub fn fetch_padded<T: Wire>(&mut self) -> T {
        let n = self.buf.len().min(std::mem::size_of::<T>());
        self.fetch_prefix(n, "").unwrap_or_default()
    }

    /// A NUL-terminated string; the cursor moves past its NUL.
    pub fn cstr(&mut self, what: &'static str) -> Result<&'a CStr, DecodeError> {
        let s =
            CStr::from_bytes_until_nul(self.buf).map_err(|_| DecodeError::Unterminated(what))?;
        self.buf = &self.buf[s.to_bytes_with_nul().len()..];
        Ok(s)
    }
}

/// View a wire struct as its bytes.
pub fn as_bytes<T: Wire>(v: &T) -> &[u8] {
    // SAFETY: Wire structs have no padding, so every byte is initialised; the slice borrows `v`.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// Write a wire struct into the front of `dst` (which must be long enough).
pub fn put<T: Wire>(dst: &mut [u8], v: &T) {
    dst[..std::mem::size_of::<T>()].copy_from_slice(as_bytes(v));
}
