/*
 * hl_slow_rename: a pass-through of / (by path, no file handles) whose rename() renames at
 * once but answers only 800 ms later. An operation on a path under the renamed directory that
 * arrives in between must wait for the rename (libfuse's path locks) instead of getting the
 * old, no longer existing path (ENOENT).
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <fuse.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void *slow_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->entry_timeout = 60; /* names stay cached: no LOOKUP waits on the directory */
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	return NULL;
}

static int slow_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	return lstat(path, st) == -1 ? -errno : 0;
}

static int slow_rename(const char *from, const char *to, unsigned int flags)
{
	if (flags)
		return -EINVAL;
	if (rename(from, to) == -1)
		return -errno;
	usleep(800 * 1000);
	return 0;
}

static const struct fuse_operations slow_ops = {
	.init = slow_init,
	.getattr = slow_getattr,
	.rename = slow_rename,
};

int main(int argc, char *argv[])
{
	return fuse_main(argc, argv, &slow_ops, NULL);
}
