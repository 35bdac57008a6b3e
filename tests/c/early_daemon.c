/*
 * A one-file filesystem ("ready", contents "yes\n") that daemonizes with libfuse 3.19's early
 * API: the launching process exits only once the mount is usable (0), or failed (non-zero).
 *
 *   early_daemon [-f] [-d] [-o opts] MOUNTPOINT
 */
#define FUSE_USE_VERSION 319
#include <fuse_lowlevel.h>
#include <fuse_daemonize.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char contents[] = "yes\n";

static void stat_of(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == 1) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof(contents) - 1;
	}
}

static void e_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	if (parent != 1 || strcmp(name, "ready") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = 2;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	stat_of(2, &e.attr);
	fuse_reply_entry(req, &e);
}

static void e_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	(void)fi;
	if (ino != 1 && ino != 2) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	stat_of(ino, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void e_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	size_t len = sizeof(contents) - 1;
	(void)fi;
	if (ino != 2) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, contents + off, len - off < size ? len - off : size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = e_lookup,
	.getattr = e_getattr,
	.read = e_read,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;
	int ret = 1;

	if (fuse_parse_cmdline(&args, &opts) != 0 || opts.mountpoint == NULL) {
		fprintf(stderr, "usage: %s [-f] [-d] MOUNTPOINT\n", argv[0]);
		return 1;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (se == NULL)
		goto out_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_daemonize_early_start(opts.foreground ? FUSE_DAEMONIZE_NO_BACKGROUND : 0) != 0)
		goto out_signals;
	if (fuse_session_mount(se, opts.mountpoint) != 0) {
		fuse_daemonize_early_fail(3);
		goto out_signals;
	}
	fuse_daemonize_early_success();
	ret = fuse_session_loop(se);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_args:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
