/*
 * hl_statx: one file, "f", whose statx() operation (libfuse 3.18's high-level statx) reports
 * a birth time of 1234567 s; getattr() cannot carry one. A statx(2) asking for STATX_BTIME
 * makes the kernel send FUSE_STATX, so the birth time shows only if the library passes the
 * request to this operation.
 */
#define FUSE_USE_VERSION 318
#define _GNU_SOURCE

#include <fuse.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static void *sx_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->attr_timeout = 0;
	return NULL;
}

static int sx_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (strcmp(path, "/f") == 0) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = 5;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int sx_statx(const char *path, int flags, int mask, struct statx *stx,
		    struct fuse_file_info *fi)
{
	struct stat st;
	int res = sx_getattr(path, &st, fi);
	(void)flags;
	(void)mask;
	if (res)
		return res;
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS | STATX_BTIME;
	stx->stx_mode = st.st_mode;
	stx->stx_nlink = st.st_nlink;
	stx->stx_size = st.st_size;
	stx->stx_blksize = 4096;
	stx->stx_btime.tv_sec = 1234567;
	return 0;
}

static int sx_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)path;
	(void)off;
	(void)fi;
	(void)flags;
	filler(buf, "f", NULL, 0, FUSE_FILL_DIR_DEFAULTS);
	return 0;
}

static const struct fuse_operations sx_ops = {
	.init = sx_init,
	.getattr = sx_getattr,
	.readdir = sx_readdir,
	.statx = sx_statx,
};

int main(int argc, char *argv[])
{
	return fuse_main(argc, argv, &sx_ops, NULL);
}
