#!/usr/bin/python3
"""A small in-memory filesystem on pyfuse3, for tests/real_programs.rs.

Usage: /usr/bin/python3 tests/py/memfs.py MOUNTPOINT

Runs in the foreground until the filesystem is unmounted, then exits 0. pyfuse3's compiled
extension links libfuse3.so.3, so LD_LIBRARY_PATH chooses which libfuse serves the mount.
Timeouts are zero so that every lookup and getattr reaches the library.
"""

import errno
import os
import stat
import sys
import time

import pyfuse3
import trio


class Node:
    def __init__(self, ino, mode, parent):
        now = time.time_ns()
        self.ino = ino
        self.mode = mode
        self.uid = os.getuid()
        self.gid = os.getgid()
        self.atime = self.mtime = self.ctime = now
        self.data = b""
        self.children = {} if stat.S_ISDIR(mode) else None
        self.target = b""
        self.nlink = 2 if stat.S_ISDIR(mode) else 1
        self.parent = parent


class MemFs(pyfuse3.Operations):
    def __init__(self):
        super().__init__()
        self.nodes = {}
        self.next_ino = pyfuse3.ROOT_INODE + 1
        self.nodes[pyfuse3.ROOT_INODE] = Node(
            pyfuse3.ROOT_INODE, stat.S_IFDIR | 0o755, pyfuse3.ROOT_INODE
        )

    def node(self, ino):
        try:
            return self.nodes[ino]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ENOENT)

    def dir(self, ino):
        n = self.node(ino)
        if n.children is None:
            raise pyfuse3.FUSEError(errno.ENOTDIR)
        return n

    def attrs(self, n):
        a = pyfuse3.EntryAttributes()
        a.st_ino = n.ino
        a.generation = 0
        a.entry_timeout = 0
        a.attr_timeout = 0
        a.st_mode = n.mode
        a.st_nlink = n.nlink
        a.st_uid = n.uid
        a.st_gid = n.gid
        a.st_rdev = 0
        a.st_size = len(n.target) if stat.S_ISLNK(n.mode) else len(n.data)
        a.st_blksize = 4096
        a.st_blocks = (a.st_size + 511) // 512
        a.st_atime_ns = n.atime
        a.st_mtime_ns = n.mtime
        a.st_ctime_ns = n.ctime
        return a

    def new_node(self, parent_ino, name, mode):
        parent = self.dir(parent_ino)
        if name in parent.children:
            raise pyfuse3.FUSEError(errno.EEXIST)
        n = Node(self.next_ino, mode, parent_ino)
        self.next_ino += 1
        self.nodes[n.ino] = n
        parent.children[name] = n.ino
        if n.children is not None:
            parent.nlink += 1
        parent.mtime = parent.ctime = time.time_ns()
        return n

    async def lookup(self, parent_inode, name, ctx=None):
        parent = self.dir(parent_inode)
        if name == b".":
            return self.attrs(parent)
        if name == b"..":
            return self.attrs(self.node(parent.parent))
        try:
            return self.attrs(self.nodes[parent.children[name]])
        except KeyError:
            raise pyfuse3.FUSEError(errno.ENOENT)

    async def getattr(self, inode, ctx=None):
        return self.attrs(self.node(inode))

    async def setattr(self, inode, attr, fields, fh, ctx):
        n = self.node(inode)
        if fields.update_size:
            size = attr.st_size
            n.data = n.data[:size] + b"\0" * max(0, size - len(n.data))
            n.mtime = time.time_ns()
        if fields.update_mode:
            n.mode = (n.mode & ~0o7777) | (attr.st_mode & 0o7777)
        if fields.update_uid:
            n.uid = attr.st_uid
        if fields.update_gid:
            n.gid = attr.st_gid
        if fields.update_atime:
            n.atime = attr.st_atime_ns
        if fields.update_mtime:
            n.mtime = attr.st_mtime_ns
        n.ctime = time.time_ns()
        return self.attrs(n)

    async def readlink(self, inode, ctx):
        n = self.node(inode)
        if not stat.S_ISLNK(n.mode):
            raise pyfuse3.FUSEError(errno.EINVAL)
        return n.target

    async def symlink(self, parent_inode, name, target, ctx):
        n = self.new_node(parent_inode, name, stat.S_IFLNK | 0o777)
        n.target = target
        return self.attrs(n)

    async def opendir(self, inode, ctx):
        self.dir(inode)
        return inode

    async def readdir(self, fh, start_id, token):
        d = self.dir(fh)
        # Offsets are positions in a name-sorted listing: stable across calls.
        entries = sorted(d.children.items())
        for i, (name, ino) in enumerate(entries):
            if i < start_id:
                continue
            if not pyfuse3.readdir_reply(token, name, self.attrs(self.nodes[ino]), i + 1):
                break

    async def releasedir(self, fh):
        pass

    async def mkdir(self, parent_inode, name, mode, ctx):
        n = self.new_node(parent_inode, name, stat.S_IFDIR | (mode & 0o7777))
        return self.attrs(n)

    async def create(self, parent_inode, name, mode, flags, ctx):
        n = self.new_node(parent_inode, name, stat.S_IFREG | (mode & 0o7777))
        return (pyfuse3.FileInfo(fh=n.ino), self.attrs(n))

    def remove(self, parent_inode, name, want_dir):
        parent = self.dir(parent_inode)
        try:
            ino = parent.children[name]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ENOENT)
        n = self.nodes[ino]
        is_dir = n.children is not None
        if want_dir and not is_dir:
            raise pyfuse3.FUSEError(errno.ENOTDIR)
        if not want_dir and is_dir:
            raise pyfuse3.FUSEError(errno.EISDIR)
        if is_dir and n.children:
            raise pyfuse3.FUSEError(errno.ENOTEMPTY)
        del parent.children[name]
        if is_dir:
            parent.nlink -= 1
        n.nlink -= 2 if is_dir else 1
        parent.mtime = parent.ctime = time.time_ns()
        # The node stays in self.nodes until forgotten: open handles may still use it.

    async def unlink(self, parent_inode, name, ctx):
        self.remove(parent_inode, name, want_dir=False)

    async def rmdir(self, parent_inode, name, ctx):
        self.remove(parent_inode, name, want_dir=True)

    async def rename(self, parent_inode_old, name_old, parent_inode_new, name_new, flags, ctx):
        if flags != 0:
            raise pyfuse3.FUSEError(errno.EINVAL)
        old = self.dir(parent_inode_old)
        new = self.dir(parent_inode_new)
        try:
            ino = old.children[name_old]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ENOENT)
        n = self.nodes[ino]
        if name_new in new.children:
            victim = self.nodes[new.children[name_new]]
            if victim.children is not None and victim.children:
                raise pyfuse3.FUSEError(errno.ENOTEMPTY)
            self.remove(parent_inode_new, name_new, want_dir=victim.children is not None)
        del old.children[name_old]
        new.children[name_new] = ino
        if n.children is not None and old is not new:
            old.nlink -= 1
            new.nlink += 1
            n.parent = parent_inode_new
        now = time.time_ns()
        old.mtime = old.ctime = new.mtime = new.ctime = n.ctime = now

    async def open(self, inode, flags, ctx):
        n = self.node(inode)
        if n.children is not None:
            raise pyfuse3.FUSEError(errno.EISDIR)
        if flags & os.O_TRUNC:
            n.data = b""
        return pyfuse3.FileInfo(fh=inode)

    async def read(self, fh, off, size):
        return self.node(fh).data[off : off + size]

    async def write(self, fh, off, buf):
        n = self.node(fh)
        if off > len(n.data):
            n.data += b"\0" * (off - len(n.data))
        n.data = n.data[:off] + buf + n.data[off + len(buf) :]
        n.mtime = n.ctime = time.time_ns()
        return len(buf)

    async def flush(self, fh):
        pass

    async def release(self, fh):
        pass

    async def fsync(self, fh, datasync):
        pass

    async def forget(self, inode_list):
        for ino, _nlookup in inode_list:
            n = self.nodes.get(ino)
            if n is not None and n.nlink <= 0 and ino != pyfuse3.ROOT_INODE:
                del self.nodes[ino]

    async def statfs(self, ctx):
        s = pyfuse3.StatvfsData()
        s.f_bsize = 4096
        s.f_frsize = 4096
        s.f_blocks = 1 << 20
        s.f_bfree = s.f_bavail = 1 << 19
        s.f_files = 1 << 16
        s.f_ffree = s.f_favail = (1 << 16) - len(self.nodes)
        s.f_namemax = 255
        return s


def main():
    if len(sys.argv) != 2:
        print("usage: memfs.py MOUNTPOINT", file=sys.stderr)
        return 2
    options = set(pyfuse3.default_options)
    options.add("fsname=pyfuse3-memfs")
    pyfuse3.init(MemFs(), sys.argv[1], options)
    try:
        trio.run(pyfuse3.main)
    except BaseException:
        pyfuse3.close(unmount=True)
        raise
    # main() returns once the kernel ends the session (the filesystem was unmounted).
    pyfuse3.close(unmount=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
