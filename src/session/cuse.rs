//! CUSE: a character device served from user space. A CUSE session talks to the kernel over
//! `/dev/cuse` instead of a mount; the kernel opens it with CUSE_INIT instead of INIT, and the
//! answer names the device node the kernel then creates (its numbers and `DEVNAME=...`
//! strings). After that the session serves open, read, write, ioctl, poll and the rest exactly
//! as it does for files.

use std::any::Any;

use crate::codec::as_bytes;
use crate::kernel::{FUSE_KERNEL_MINOR_VERSION, FUSE_KERNEL_VERSION, FUSE_MIN_READ_BUFFER};
use crate::kernel::{cuse_init_in, cuse_init_out};

use super::{BUFFER_HEADER_SIZE, ReqHandle, Session, req};

/// The most bytes of device info strings the kernel takes (its CUSE_INIT_INFO_MAX).
pub const INFO_MAX: usize = 4096;

/// The largest read the library offers the kernel, as libfuse does.
pub const MAX_READ: u32 = 131_072;

/// The character device a CUSE session creates.
pub struct Device {
    /// Device numbers (major 0: the kernel picks one).
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// `CUSE_UNRESTRICTED_IOCTL` and the like, passed to the kernel as they are.
    pub flags: u32,
    /// The info strings, each followed by its NUL, back to back.
    pub info: Vec<u8>,
    /// The program's own device callbacks, kept here for the layer that calls them.
    pub ops: Box<dyn Any + Send + Sync>,
}

/// Why a device description cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// The info strings need this many bytes, more than [`INFO_MAX`].
    InfoTooLarge(usize),
}

impl Device {
    /// A device from its numbers, flags and info strings (without NULs), or why not.
    pub fn new(
        major: u32,
        minor: u32,
        flags: u32,
        strings: &[&[u8]],
        ops: Box<dyn Any + Send + Sync>,
    ) -> Result<Device, DeviceError> {
        let len: usize = strings.iter().map(|s| s.len() + 1).sum();
        if len > INFO_MAX {
            return Err(DeviceError::InfoTooLarge(len));
        }
        let mut info = Vec::with_capacity(len);
        for s in strings {
            info.extend_from_slice(s);
            info.push(0);
        }
        Ok(Device { major, minor, flags, info, ops })
    }
}

/// Answer CUSE_INIT for `dev`: the filesystem's `init` sees the connection first (and may
/// lower `max_write`), the kernel is told the device, then `init_done` runs.
pub fn do_init(se: &Session, h: ReqHandle, arg: &cuse_init_in, dev: &Device) {
    let debug = se.debug();
    if debug {
        crate::log::debug(&format!("CUSE_INIT: {}.{}\n", arg.major, arg.minor));
        crate::log::debug(&format!("flags=0x{:08x}\n", arg.flags));
    }
    let mut bufsize = se.bufsize();
    {
        let mut conn = se.conn.lock();
        conn.proto_major = arg.major;
        conn.proto_minor = arg.minor;
        conn.capable = 0;
        conn.want = 0;
        conn.capable_ext = 0;
        conn.want_ext = 0;
    }
    if arg.major < 7 {
        crate::log::err(&format!(
            "cuse: unsupported protocol version: {}.{}\n",
            arg.major, arg.minor
        ));
        if let Some(d) = req::take(h) {
            se.reply_raw(&d, -libc::EPROTO, &[]);
        }
        return;
    }
    if bufsize < FUSE_MIN_READ_BUFFER {
        crate::log::err(&format!("cuse: warning: buffer size too small: {bufsize}\n"));
        bufsize = FUSE_MIN_READ_BUFFER;
    }
    let room = (bufsize - BUFFER_HEADER_SIZE) as u32;
    {
        let mut conn = se.conn.lock();
        conn.max_write = conn.max_write.min(room);
    }
    se.finish_init(arg.minor, 0, bufsize);
    // As for INIT, the program's init runs without our lock held.
    se.with_fs(|fs| fs.init(se.conn_ptr()));
    // An init that raised max_write past the request buffer would get requests cut short:
    // the kernel is offered what the buffer holds.
    let max_write = {
        let mut conn = se.conn.lock();
        conn.max_write = conn.max_write.min(room);
        conn.max_write
    };
    let out = cuse_init_out {
        major: FUSE_KERNEL_VERSION,
        minor: FUSE_KERNEL_MINOR_VERSION,
        flags: dev.flags,
        max_read: MAX_READ,
        max_write,
        dev_major: dev.major,
        dev_minor: dev.minor,
        ..Default::default()
    };
    if debug {
        crate::log::debug(&format!("   CUSE_INIT: {}.{}\n", out.major, out.minor));
        crate::log::debug(&format!("   flags=0x{:08x}\n", out.flags));
        crate::log::debug(&format!("   max_read=0x{:08x}\n", out.max_read));
        crate::log::debug(&format!("   max_write=0x{:08x}\n", out.max_write));
        crate::log::debug(&format!("   dev_major={}\n", out.dev_major));
        crate::log::debug(&format!("   dev_minor={}\n", out.dev_minor));
        let shown: Vec<String> = dev
            .info
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        crate::log::debug(&format!("   dev_info: {}\n", shown.join(" ")));
    }
    if let Some(d) = req::take(h) {
        se.reply_raw(&d, 0, &[as_bytes(&out), &dev.info]);
    }
    se.with_fs(|fs| fs.init_done());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_strings_are_packed_with_their_nuls() {
        let d = Device::new(1, 2, 1, &[b"DEVNAME=a", b"X=1"], Box::new(())).unwrap();
        assert_eq!(d.info, b"DEVNAME=a\0X=1\0");
        assert_eq!((d.major, d.minor, d.flags), (1, 2, 1));
        let empty = Device::new(0, 0, 0, &[], Box::new(())).unwrap();
        assert!(empty.info.is_empty());
    }

    #[test]
    fn info_over_the_kernel_limit_is_refused() {
        let long = vec![b'a'; INFO_MAX - 1];
        assert!(Device::new(0, 0, 0, &[&long], Box::new(())).is_ok());
        let longer = vec![b'a'; INFO_MAX];
        assert_eq!(
            Device::new(0, 0, 0, &[&longer], Box::new(())).err(),
            Some(DeviceError::InfoTooLarge(INFO_MAX + 1))
        );
    }
}
