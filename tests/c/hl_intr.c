/*
 * hl_intr: a high-level filesystem whose one file, "slow", takes 20 seconds to read unless the
 * read is interrupted. Its init() sets cfg->intr, so the library signals the thread serving an
 * interrupted request (SIGUSR1 by default): sleep() returns early, and the read answers EINTR
 * after printing what fuse_interrupted() said. (libfuse 3 takes `intr` from init() only; it
 * refuses `-o intr`.)
 */
#define FUSE_USE_VERSION 31

#include <fuse.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void *intr_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->intr = 1;
	return NULL;
}

static int intr_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (strcmp(path, "/slow") == 0) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = 4096;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int intr_open(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	fi->direct_io = 1;
	return 0;
}

static int intr_read(const char *path, char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)path;
	(void)off;
	(void)fi;
	unsigned left = sleep(20);
	if (left > 0) {
		fprintf(stderr, "read interrupted after %us, fuse_interrupted()=%d\n", 20 - left,
			fuse_interrupted());
		return -EINTR;
	}
	memset(buf, 'x', size);
	return (int)size;
}

static const struct fuse_operations intr_ops = {
	.init = intr_init,
	.getattr = intr_getattr,
	.open = intr_open,
	.read = intr_read,
};

int main(int argc, char *argv[])
{
	return fuse_main(argc, argv, &intr_ops, NULL);
}
