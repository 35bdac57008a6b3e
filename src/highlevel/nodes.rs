//! The node table: libfuse's inode <-> (parent, name) map with lookup counts.
//!
//! Every inode number the kernel holds came from a reply that counted one lookup; FORGET gives
//! them back, and a node leaves the table when its count reaches zero (never with `noforget`).
//! A node whose name went away (unlink, rename over it) stays, nameless, until forgotten: the
//! kernel may still use its number, and building its path then fails with ENOENT.
//!
//! Path locks keep paths true while a callback uses them: an operation read-locks the nodes of
//! its path, a change of names write-locks the nodes it renames or removes (see
//! [`NodeTable::try_lock`]). They are counts in the nodes, not a lock of the table.

use std::collections::HashMap;

use crate::session::Errno;

/// The root's inode number.
pub const ROOT: u64 = 1;

#[derive(Debug, Clone)]
struct Node {
    /// Parent inode and name; `None` once the name was removed.
    link: Option<(u64, Vec<u8>)>,
    nlookup: u64,
    generation: u64,
    open_count: u32,
    /// The name is a `.fuse_hidden...` name this layer chose for an unlinked open file.
    hidden: bool,
    /// `auto_cache`: the mtime and size seen at the last open, and when.
    cache_stamp: Option<(i64, i64, i64)>,
    /// Path locks: operations running on a path below (or at) this node.
    readers: u32,
    /// Path locks: a rename, unlink or rmdir of this node is running.
    writer: bool,
}

/// Locks taken by [`NodeTable::try_lock`], to give back with [`NodeTable::unlock`].
#[derive(Debug, Default)]
pub struct PathLocks {
    reads: Vec<u64>,
    writes: Vec<u64>,
}

/// The table. Callers keep it behind one lock and never hold that across a callback.
#[derive(Debug)]
pub struct NodeTable {
    nodes: HashMap<u64, Node>,
    names: HashMap<(u64, Vec<u8>), u64>,
    next_id: u64,
    generation: u64,
    hidden_ctr: u32,
    /// `noforget`/`remember`: keep nodes whose lookup count reaches zero.
    keep_forgotten: bool,
}

impl NodeTable {
    /// A table holding the root (counted once, as libfuse does).
    pub fn new(keep_forgotten: bool) -> NodeTable {
        let mut nodes = HashMap::new();
        nodes.insert(
            ROOT,
            Node {
                link: None,
                nlookup: 1,
                generation: 0,
                open_count: 0,
                hidden: false,
                cache_stamp: None,
                readers: 0,
                writer: false,
            },
        );
        NodeTable {
            nodes,
            names: HashMap::new(),
            next_id: ROOT,
            generation: 0,
            hidden_ctr: 1,
            keep_forgotten,
        }
    }

    /// Number of nodes (the root included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: the root is always there.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn fresh_id(&mut self) -> u64 {
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            if self.next_id == 0 {
                self.generation += 1;
                continue;
            }
            if self.next_id == super::UNKNOWN_INO || self.next_id == ROOT {
                continue;
            }
            if !self.nodes.contains_key(&self.next_id) {
                return self.next_id;
            }
        }
    }

    /// The node for `name` in `parent`, if known.
    pub fn find(&self, parent: u64, name: &[u8]) -> Option<u64> {
        self.names.get(&(parent, name.to_vec())).copied()
    }

    /// Count one lookup of `name` in `parent`, creating the node if needed.
    /// Returns its inode number and generation.
    pub fn lookup(&mut self, parent: u64, name: &[u8]) -> (u64, u64) {
        if let Some(ino) = self.find(parent, name) {
            if let Some(n) = self.nodes.get_mut(&ino) {
                n.nlookup += 1;
                return (ino, n.generation);
            }
        }
        let ino = self.fresh_id();
        let generation = self.generation;
        self.nodes.insert(
            ino,
            Node {
                link: Some((parent, name.to_vec())),
                nlookup: 1,
                generation,
                open_count: 0,
                hidden: false,
                cache_stamp: None,
                readers: 0,
                writer: false,
            },
        );
        self.names.insert((parent, name.to_vec()), ino);
        (ino, generation)
    }

    /// Give back `n` lookups of `ino`; the node goes when none are left.
    pub fn forget(&mut self, ino: u64, n: u64) {
        if ino == ROOT {
            return;
        }
        let Some(node) = self.nodes.get_mut(&ino) else { return };
        node.nlookup = node.nlookup.saturating_sub(n);
        if node.nlookup == 0
            && node.open_count == 0
            && node.readers == 0
            && !node.writer
            && !self.keep_forgotten
        {
            let node = self.nodes.remove(&ino).expect("present");
            if let Some(key) = node.link {
                if self.names.get(&key) == Some(&ino) {
                    self.names.remove(&key);
                }
            }
        }
    }

    /// The lookup count of `ino` (0 when unknown).
    pub fn nlookup(&self, ino: u64) -> u64 {
        self.nodes.get(&ino).map_or(0, |n| n.nlookup)
    }

    /// Whether `ino` is in the table.
    pub fn contains(&self, ino: u64) -> bool {
        self.nodes.contains_key(&ino)
    }

    /// The path of `ino`: `/` for the root, ENOENT for unknown or nameless nodes.
    pub fn path(&self, ino: u64) -> Result<Vec<u8>, Errno> {
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut cur = ino;
        let mut guard = 0usize;
        while cur != ROOT {
            let node = self.nodes.get(&cur).ok_or(libc::ENOENT)?;
            let (parent, name) = node.link.as_ref().ok_or(libc::ENOENT)?;
            parts.push(name);
            cur = *parent;
            guard += 1;
            if guard > self.nodes.len() {
                return Err(libc::ELOOP);
            }
        }
        if parts.is_empty() {
            return Ok(b"/".to_vec());
        }
        let mut p = Vec::new();
        for name in parts.iter().rev() {
            p.push(b'/');
            p.extend_from_slice(name);
        }
        Ok(p)
    }

    /// The node a path names, walking known names from the root.
    pub fn resolve(&self, path: &[u8]) -> Option<u64> {
        let mut cur = ROOT;
        for part in path.split(|&c| c == b'/').filter(|p| !p.is_empty()) {
            cur = self.find(cur, part)?;
        }
        Some(cur)
    }

    /// The nodes from `ino` up to the root (just `ino` when it has no name).
    fn chain(&self, ino: u64) -> Vec<u64> {
        let mut out = vec![ino];
        let mut cur = ino;
        while let Some((parent, _)) = self.nodes.get(&cur).and_then(|n| n.link.as_ref()) {
            if out.contains(parent) {
                break;
            }
            out.push(*parent);
            cur = *parent;
        }
        out
    }

    /// Path locks, as libfuse's tree lock: an operation read-locks the nodes of its paths (each
    /// with its ancestors); a rename, unlink or rmdir write-locks the nodes whose names it
    /// changes. A write lock waits for the node's readers; a read lock waits for writers on
    /// its chain. Taken all at once or not at all (so no lock is held while waiting): `None`
    /// means "wait and try again". Nodes not in the table are skipped.
    pub fn try_lock(&mut self, read: &[u64], write: &[u64]) -> Option<PathLocks> {
        let write: Vec<u64> =
            write.iter().copied().filter(|i| self.nodes.contains_key(i)).collect();
        let mut reads: Vec<u64> = Vec::new();
        for &r in read {
            for i in self.chain(r) {
                if self.nodes.contains_key(&i) && !write.contains(&i) && !reads.contains(&i) {
                    reads.push(i);
                }
            }
        }
        let free_for_read = reads.iter().all(|i| !self.nodes[i].writer);
        let free_for_write =
            write.iter().all(|i| !self.nodes[i].writer && self.nodes[i].readers == 0);
        if !free_for_read || !free_for_write {
            return None;
        }
        for i in &reads {
            self.nodes.get_mut(i).expect("checked").readers += 1;
        }
        for i in &write {
            self.nodes.get_mut(i).expect("checked").writer = true;
        }
        Some(PathLocks { reads, writes: write })
    }

    /// Give back what [`NodeTable::try_lock`] took.
    pub fn unlock(&mut self, locks: &PathLocks) {
        for i in &locks.reads {
            if let Some(n) = self.nodes.get_mut(i) {
                n.readers = n.readers.saturating_sub(1);
            }
        }
        for i in &locks.writes {
            if let Some(n) = self.nodes.get_mut(i) {
                n.writer = false;
            }
        }
        for i in locks.reads.iter().chain(&locks.writes) {
            self.drop_if_unused(*i);
        }
    }

    /// Remove `ino` if nothing holds it any more (lookups, opens, path locks).
    fn drop_if_unused(&mut self, ino: u64) {
        let Some(n) = self.nodes.get(&ino) else { return };
        if ino != ROOT
            && n.nlookup == 0
            && n.open_count == 0
            && n.readers == 0
            && !n.writer
            && !self.keep_forgotten
        {
            let node = self.nodes.remove(&ino).expect("present");
            if let Some(key) = node.link {
                if self.names.get(&key) == Some(&ino) {
                    self.names.remove(&key);
                }
            }
        }
    }

    /// The parent of `ino`, if it has a name.
    pub fn parent_of(&self, ino: u64) -> Option<u64> {
        self.nodes.get(&ino)?.link.as_ref().map(|(p, _)| *p)
    }

    /// Count one more lookup of a node the kernel already knows (a `.` or `..` entry);
    /// returns its generation.
    pub fn count_again(&mut self, ino: u64) -> u64 {
        match self.nodes.get_mut(&ino) {
            Some(n) => {
                n.nlookup += 1;
                n.generation
            }
            None => 0,
        }
    }

    /// The path of `name` inside `parent`.
    pub fn child_path(&self, parent: u64, name: &[u8]) -> Result<Vec<u8>, Errno> {
        let mut p = self.path(parent)?;
        if p != b"/" {
            p.push(b'/');
        }
        p.extend_from_slice(name);
        Ok(p)
    }

    fn detach(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            if let Some(key) = node.link.take() {
                if self.names.get(&key) == Some(&ino) {
                    self.names.remove(&key);
                }
            }
            node.hidden = false;
        }
        if let Some(node) = self.nodes.get(&ino) {
            if node.nlookup == 0
                && node.open_count == 0
                && node.readers == 0
                && !node.writer
                && !self.keep_forgotten
                && ino != ROOT
            {
                self.nodes.remove(&ino);
            }
        }
    }

    /// `name` in `parent` is gone (unlink, rmdir).
    pub fn remove_name(&mut self, parent: u64, name: &[u8]) {
        if let Some(ino) = self.find(parent, name) {
            self.detach(ino);
        }
    }

    /// `old` in `olddir` is now `new` in `newdir`; whatever `new` named before is gone.
    /// With `exchange` (RENAME_EXCHANGE) the two swap.
    pub fn rename(&mut self, olddir: u64, old: &[u8], newdir: u64, new: &[u8], exchange: bool) {
        let src = self.find(olddir, old);
        let dst = self.find(newdir, new);
        if exchange {
            if let Some(s) = src {
                self.names.remove(&(olddir, old.to_vec()));
                if let Some(n) = self.nodes.get_mut(&s) {
                    n.link = Some((newdir, new.to_vec()));
                }
            }
            if let Some(d) = dst {
                if self.names.get(&(newdir, new.to_vec())) == Some(&d) {
                    self.names.remove(&(newdir, new.to_vec()));
                }
                if let Some(n) = self.nodes.get_mut(&d) {
                    n.link = Some((olddir, old.to_vec()));
                }
                self.names.insert((olddir, old.to_vec()), d);
            }
            if let Some(s) = src {
                self.names.insert((newdir, new.to_vec()), s);
            }
            return;
        }
        if let Some(d) = dst {
            if Some(d) != src {
                self.detach(d);
            }
        }
        if let Some(s) = src {
            self.names.remove(&(olddir, old.to_vec()));
            if let Some(n) = self.nodes.get_mut(&s) {
                n.link = Some((newdir, new.to_vec()));
                n.hidden = false;
            }
            self.names.insert((newdir, new.to_vec()), s);
        }
    }

    /// Mark `ino` as living under a hidden name now (after the rename to it succeeded). If
    /// its last open file was released meanwhile, nobody else will remove the hidden name:
    /// returns its path for the caller to unlink.
    pub fn set_hidden(&mut self, ino: u64) -> Option<Vec<u8>> {
        let n = self.nodes.get_mut(&ino)?;
        n.hidden = true;
        if n.open_count > 0 {
            return None;
        }
        let p = self.path(ino).ok();
        if p.is_some() {
            self.detach(ino);
        }
        p
    }

    /// A `.fuse_hiddenXXXXXXXXYYYYYYYY` name for `ino` not known in `dir` (the caller checks
    /// the filesystem too and asks again if it exists there).
    pub fn hidden_name(&mut self, dir: u64, ino: u64) -> Vec<u8> {
        loop {
            let name = format!(".fuse_hidden{:08x}{:08x}", ino as u32, self.hidden_ctr);
            self.hidden_ctr = self.hidden_ctr.wrapping_add(1);
            if self.find(dir, name.as_bytes()).is_none() {
                return name.into_bytes();
            }
        }
    }

    /// Whether `name` in `dir` is a node some process has open.
    pub fn is_open(&self, dir: u64, name: &[u8]) -> Option<u64> {
        let ino = self.find(dir, name)?;
        self.nodes.get(&ino).filter(|n| n.open_count > 0).map(|_| ino)
    }

    /// Whether `ino` lives under a hidden name (unlinked while open): its link count shows one
    /// less, as the name the program sees is gone.
    pub fn is_hidden(&self, ino: u64) -> bool {
        self.nodes.get(&ino).is_some_and(|n| n.hidden)
    }

    /// One more open file on `ino`.
    pub fn opened(&mut self, ino: u64) {
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.open_count += 1;
        }
    }

    /// One open file on `ino` fewer. Returns the hidden path to remove when this was the last
    /// open of a file unlinked while open.
    pub fn released(&mut self, ino: u64) -> Option<Vec<u8>> {
        let n = self.nodes.get_mut(&ino)?;
        n.open_count = n.open_count.saturating_sub(1);
        if n.open_count == 0 && n.hidden {
            let p = self.path(ino).ok();
            if p.is_some() {
                self.detach(ino);
            }
            return p;
        }
        if n.open_count == 0 && n.nlookup == 0 {
            self.drop_if_unused(ino);
        }
        None
    }

    /// `auto_cache`: record (mtime seconds, mtime nanoseconds, size) seen at open; true if they
    /// match what was recorded before (the cached pages may be kept).
    pub fn stamp(&mut self, ino: u64, stamp: (i64, i64, i64)) -> bool {
        let Some(n) = self.nodes.get_mut(&ino) else { return false };
        let same = n.cache_stamp == Some(stamp);
        n.cache_stamp = Some(stamp);
        same
    }

    /// Drop every node no one holds (what the cleanup thread does with `remember`).
    pub fn prune(&mut self) -> usize {
        let dead: Vec<u64> = self
            .nodes
            .iter()
            .filter(|(i, n)| {
                **i != ROOT && n.nlookup == 0 && n.open_count == 0 && n.readers == 0 && !n.writer
            })
            .map(|(i, _)| *i)
            .collect();
        for ino in &dead {
            if let Some(node) = self.nodes.remove(ino) {
                if let Some(key) = node.link {
                    if self.names.get(&key) == Some(ino) {
                        self.names.remove(&key);
                    }
                }
            }
        }
        dead.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_parents() {
        let mut t = NodeTable::new(false);
        assert_eq!(t.path(ROOT).unwrap(), b"/");
        let (a, _) = t.lookup(ROOT, b"a");
        let (b, _) = t.lookup(a, b"b");
        assert_eq!(t.path(b).unwrap(), b"/a/b");
        assert_eq!(t.child_path(b, b"c").unwrap(), b"/a/b/c");
        assert_eq!(t.child_path(ROOT, b"x").unwrap(), b"/x");
        assert_eq!(t.path(999), Err(libc::ENOENT));
        assert_eq!(t.resolve(b"/a/b"), Some(b));
        assert_eq!(t.resolve(b"/"), Some(ROOT));
        assert_eq!(t.resolve(b"/a/zz"), None);
    }

    #[test]
    fn lookups_are_counted_and_forgotten() {
        let mut t = NodeTable::new(false);
        let (a, _) = t.lookup(ROOT, b"a");
        let (a2, _) = t.lookup(ROOT, b"a");
        assert_eq!(a, a2);
        assert_eq!(t.nlookup(a), 2);
        t.forget(a, 1);
        assert!(t.contains(a));
        t.forget(a, 1);
        assert!(!t.contains(a));
        assert_eq!(t.find(ROOT, b"a"), None);
        let mut keep = NodeTable::new(true);
        let (k, _) = keep.lookup(ROOT, b"k");
        keep.forget(k, 1);
        assert!(keep.contains(k), "noforget keeps nodes");
        assert_eq!(keep.prune(), 1);
    }

    #[test]
    fn rename_moves_and_replaces() {
        let mut t = NodeTable::new(false);
        let (d, _) = t.lookup(ROOT, b"d");
        let (a, _) = t.lookup(ROOT, b"a");
        let (b, _) = t.lookup(d, b"b");
        t.rename(ROOT, b"a", d, b"b", false);
        assert_eq!(t.path(a).unwrap(), b"/d/b");
        assert_eq!(t.path(b), Err(libc::ENOENT), "the replaced node lost its name");
        assert!(t.contains(b), "but stays until forgotten");
        t.forget(b, 1);
        assert!(!t.contains(b));
        let (c, _) = t.lookup(ROOT, b"c");
        t.rename(ROOT, b"c", d, b"b", true);
        assert_eq!(t.path(c).unwrap(), b"/d/b");
        assert_eq!(t.path(a).unwrap(), b"/c");
    }

    #[test]
    fn unlinked_open_files_are_hidden_then_removed() {
        let mut t = NodeTable::new(false);
        let (f, _) = t.lookup(ROOT, b"f");
        t.opened(f);
        assert_eq!(t.is_open(ROOT, b"f"), Some(f));
        let hidden = t.hidden_name(ROOT, f);
        assert!(hidden.starts_with(b".fuse_hidden"));
        t.rename(ROOT, b"f", ROOT, &hidden, false);
        assert_eq!(t.set_hidden(f), None, "still open: the last release removes it");
        let mut want = b"/".to_vec();
        want.extend_from_slice(&hidden);
        assert_eq!(t.released(f), Some(want));
        assert_eq!(t.find(ROOT, &hidden), None);
    }

    #[test]
    fn a_release_during_the_hiding_rename_leaves_the_removal_to_the_hider() {
        let mut t = NodeTable::new(false);
        let (f, _) = t.lookup(ROOT, b"f");
        t.opened(f);
        let hidden = t.hidden_name(ROOT, f);
        // The release comes while the rename to the hidden name is in flight.
        assert_eq!(t.released(f), None);
        t.rename(ROOT, b"f", ROOT, &hidden, false);
        let mut want = b"/".to_vec();
        want.extend_from_slice(&hidden);
        assert_eq!(t.set_hidden(f), Some(want));
        assert_eq!(t.find(ROOT, &hidden), None);
    }

    #[test]
    fn path_locks_order_renames_after_operations_below() {
        let mut t = NodeTable::new(false);
        let (a, _) = t.lookup(ROOT, b"a");
        let (x, _) = t.lookup(a, b"x");
        let (b, _) = t.lookup(ROOT, b"b");
        // An operation on /a/x read-locks x, a and the root.
        let op = t.try_lock(&[x], &[]).unwrap();
        // Renaming /a waits for it; an operation on /b does not.
        assert!(t.try_lock(&[ROOT], &[a]).is_none());
        let other = t.try_lock(&[b], &[]).unwrap();
        t.unlock(&op);
        let rename = t.try_lock(&[ROOT], &[a]).unwrap();
        // While the rename runs, operations below /a wait; the root is only read-locked.
        assert!(t.try_lock(&[x], &[]).is_none());
        assert!(t.try_lock(&[b], &[]).is_some());
        t.unlock(&rename);
        t.unlock(&other);
        assert!(t.try_lock(&[x], &[]).is_some());
        // A node both read (as an ancestor) and written is only written: no self-deadlock.
        let (y, _) = t.lookup(a, b"y");
        assert!(t.try_lock(&[y], &[ROOT]).is_none(), "the root is read-locked above");
        let mut u = NodeTable::new(false);
        let (c, _) = u.lookup(ROOT, b"c");
        let (d, _) = u.lookup(c, b"d");
        assert!(u.try_lock(&[d], &[c]).is_some());
    }

    #[test]
    fn a_forgotten_node_stays_while_locked() {
        let mut t = NodeTable::new(false);
        let (a, _) = t.lookup(ROOT, b"a");
        let l = t.try_lock(&[a], &[]).unwrap();
        t.remove_name(ROOT, b"a");
        t.forget(a, 1);
        assert!(t.contains(a));
        t.unlock(&l);
        assert!(!t.contains(a));
    }

    #[test]
    fn ids_skip_reserved_numbers() {
        let mut t = NodeTable::new(false);
        t.next_id = super::super::UNKNOWN_INO - 1;
        let (a, _) = t.lookup(ROOT, b"a");
        assert_ne!(a, super::super::UNKNOWN_INO);
    }
}
