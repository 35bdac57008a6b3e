//! `fusermount3`: the setuid mount helper (see `fuse3::fusermount3`).
fn main() {
    fuse3::fusermount3::main()
}
