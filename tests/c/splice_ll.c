/*
 * A one-file low-level filesystem for the splice tests: /data shows BACKING, opened with
 * direct_io so every read(2) reaches the daemon as one READ of the caller's size, and answered
 * with fuse_reply_data() on a file-descriptor buffer, the way passthrough filesystems do.
 *
 *   splice_ll [--nosplice] [--odirect] BACKING MOUNTPOINT [-f] [-d] [-s] ...
 *
 * --nosplice  do not ask for FUSE_CAP_SPLICE_WRITE (replies are copied)
 * --odirect   open BACKING with O_DIRECT (splice from it is refused: the library must copy,
 *             into memory an O_DIRECT read accepts)
 *
 * Compiles against Debian's libfuse headers and ours (FUSE_USE_VERSION 34).
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *backing;
static int nosplice;
static int odirect;

static int stat_ino(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == 1) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (ino == 2) {
		struct stat b;
		if (stat(backing, &b) == -1)
			return errno;
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = b.st_size;
		return 0;
	}
	return ENOENT;
}

static void sl_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	if (nosplice) {
		conn->want &= ~(FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE | FUSE_CAP_SPLICE_READ);
	} else {
		if (conn->capable & FUSE_CAP_SPLICE_WRITE)
			conn->want |= FUSE_CAP_SPLICE_WRITE;
		if (conn->capable & FUSE_CAP_SPLICE_MOVE)
			conn->want |= FUSE_CAP_SPLICE_MOVE;
	}
}

static void sl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int err;

	if (parent != 1 || strcmp(name, "data") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = 2;
	err = stat_ino(2, &e.attr);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fuse_reply_entry(req, &e);
}

static void sl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int err = stat_ino(ino, &st);

	(void)fi;
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, 0);
}

static void sl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char buf[512];
	size_t used = 0;
	struct stat st;
	const char *names[] = { ".", "..", "data" };
	const fuse_ino_t inos[] = { 1, 1, 2 };

	(void)fi;
	if (ino != 1) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	for (off_t i = off; i < 3; i++) {
		size_t n;

		memset(&st, 0, sizeof(st));
		st.st_ino = inos[i];
		st.st_mode = i == 2 ? S_IFREG : S_IFDIR;
		n = fuse_add_direntry(req, buf + used, sizeof(buf) - used, names[i], &st, i + 1);
		if (used + n > size || used + n > sizeof(buf))
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void sl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd;

	if (ino != 2) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	fd = open(backing, O_RDONLY | (odirect ? O_DIRECT : 0));
	if (fd == -1) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = fd;
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void sl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void sl_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	close(fi->fh);
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops ops = {
	.init = sl_init,
	.lookup = sl_lookup,
	.getattr = sl_getattr,
	.readdir = sl_readdir,
	.open = sl_open,
	.read = sl_read,
	.release = sl_release,
};

int main(int argc, char **argv)
{
	char *rest[64];
	int n = 0;
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;
	int ret = 1;

	for (int i = 0; i < argc && n < 63; i++) {
		if (strcmp(argv[i], "--nosplice") == 0)
			nosplice = 1;
		else if (strcmp(argv[i], "--odirect") == 0)
			odirect = 1;
		else if (i > 0 && backing == NULL && argv[i][0] != '-')
			backing = argv[i];
		else
			rest[n++] = argv[i];
	}
	rest[n] = NULL;
	if (backing == NULL) {
		fprintf(stderr, "usage: %s [--nosplice] [--odirect] BACKING MOUNTPOINT [options]\n",
			argv[0]);
		return 2;
	}
	struct fuse_args args = FUSE_ARGS_INIT(n, rest);
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 2;
	if (opts.mountpoint == NULL) {
		fprintf(stderr, "splice_ll: no mountpoint\n");
		return 2;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (se == NULL)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto destroy;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto handlers;
	ret = opts.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, NULL);
	fuse_session_unmount(se);
handlers:
	fuse_remove_signal_handlers(se);
destroy:
	fuse_session_destroy(se);
out:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
