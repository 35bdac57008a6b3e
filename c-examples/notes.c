/*
 * notes: a small in-memory filesystem on the high-level API (fuse_main and path operations).
 *
 * The high-level twin of notes_ll.c: one flat directory of regular files kept in memory;
 * create, write, read, truncate, rename, unlink and list them. Nothing survives unmounting.
 * It uses only the libfuse 3 high-level API, so it builds unchanged against libfuse's headers
 * and against ferrofuse's. Its private data travels through fuse_main's user_data, init() and
 * fuse_get_context(), as a real filesystem's would.
 *
 *   notes [-f] [-s] [-d] [-o opt,...] MOUNTPOINT
 */
#define FUSE_USE_VERSION 31

#include <fuse.h>

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_NOTES 256

struct note {
	int used;
	char name[256];
	char *data;
	size_t size;
	mode_t mode;
	struct timespec mtime;
};

struct notes {
	struct note slot[MAX_NOTES];
	pthread_mutex_t lock;
	uid_t owner;
};

static struct notes *me(void)
{
	return fuse_get_context()->private_data;
}

/* The note a path names ("/name"), or NULL. Called with the lock held. */
static struct note *find(struct notes *n, const char *path)
{
	if (path[0] != '/' || strchr(path + 1, '/') != NULL)
		return NULL;
	for (int i = 0; i < MAX_NOTES; i++)
		if (n->slot[i].used && strcmp(n->slot[i].name, path + 1) == 0)
			return &n->slot[i];
	return NULL;
}

static void *notes_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	cfg->direct_io = 1;
	/* fuse_main's user_data is the private data until init returns a new one. */
	return fuse_get_context()->private_data;
}

static int notes_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct notes *n = me();
	int res = 0;
	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_uid = n->owner;
	st->st_gid = getgid();
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	pthread_mutex_lock(&n->lock);
	struct note *x = find(n, path);
	if (x == NULL) {
		res = -ENOENT;
	} else {
		st->st_mode = S_IFREG | x->mode;
		st->st_nlink = 1;
		st->st_size = (off_t)x->size;
		st->st_mtim = x->mtime;
		st->st_ctim = x->mtime;
	}
	pthread_mutex_unlock(&n->lock);
	return res;
}

static int notes_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
			 struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct notes *n = me();
	(void)off;
	(void)fi;
	(void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	pthread_mutex_lock(&n->lock);
	for (int i = 0; i < MAX_NOTES; i++)
		if (n->slot[i].used)
			filler(buf, n->slot[i].name, NULL, 0, 0);
	pthread_mutex_unlock(&n->lock);
	return 0;
}

static int notes_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct notes *n = me();
	int res = -ENOSPC;
	(void)fi;
	if (strlen(path) > 255 || strchr(path + 1, '/') != NULL)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&n->lock);
	if (find(n, path) != NULL) {
		res = -EEXIST;
	} else {
		for (int i = 0; i < MAX_NOTES; i++) {
			struct note *x = &n->slot[i];
			if (!x->used) {
				memset(x, 0, sizeof(*x));
				x->used = 1;
				strcpy(x->name, path + 1);
				x->mode = mode & 07777;
				clock_gettime(CLOCK_REALTIME, &x->mtime);
				res = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&n->lock);
	return res;
}

static int notes_open(const char *path, struct fuse_file_info *fi)
{
	struct notes *n = me();
	pthread_mutex_lock(&n->lock);
	struct note *x = find(n, path);
	pthread_mutex_unlock(&n->lock);
	if (x == NULL)
		return -ENOENT;
	fi->fh = (uint64_t)(x - n->slot);
	return 0;
}

static int resize(struct note *x, size_t size)
{
	if (size > x->size) {
		char *p = realloc(x->data, size);
		if (p == NULL)
			return -ENOMEM;
		memset(p + x->size, 0, size - x->size);
		x->data = p;
	}
	x->size = size;
	clock_gettime(CLOCK_REALTIME, &x->mtime);
	return 0;
}

static int notes_read(const char *path, char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct notes *n = me();
	struct note *x = &n->slot[fi->fh];
	int res = 0;
	(void)path;
	pthread_mutex_lock(&n->lock);
	if ((size_t)off < x->size) {
		size_t len = x->size - (size_t)off;
		if (len > size)
			len = size;
		memcpy(buf, x->data + off, len);
		res = (int)len;
	}
	pthread_mutex_unlock(&n->lock);
	return res;
}

static int notes_write(const char *path, const char *buf, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct notes *n = me();
	struct note *x = &n->slot[fi->fh];
	int res = (int)size;
	(void)path;
	pthread_mutex_lock(&n->lock);
	if ((size_t)off + size > x->size)
		res = resize(x, (size_t)off + size);
	if (res >= 0) {
		memcpy(x->data + off, buf, size);
		res = (int)size;
	}
	pthread_mutex_unlock(&n->lock);
	return res;
}

static int notes_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct notes *n = me();
	int res;
	(void)fi;
	pthread_mutex_lock(&n->lock);
	struct note *x = find(n, path);
	res = x == NULL ? -ENOENT : resize(x, (size_t)size);
	pthread_mutex_unlock(&n->lock);
	return res;
}

static int notes_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	struct notes *n = me();
	int res = 0;
	(void)fi;
	pthread_mutex_lock(&n->lock);
	struct note *x = find(n, path);
	if (x == NULL)
		res = -ENOENT;
	else if (tv[1].tv_nsec == UTIME_NOW)
		clock_gettime(CLOCK_REALTIME, &x->mtime);
	else if (tv[1].tv_nsec != UTIME_OMIT)
		x->mtime = tv[1];
	pthread_mutex_unlock(&n->lock);
	return res;
}

static int notes_rename(const char *from, const char *to, unsigned int flags)
{
	struct notes *n = me();
	int res = 0;
	if (flags != 0)
		return -EINVAL;
	if (strlen(to) > 255 || strchr(to + 1, '/') != NULL)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&n->lock);
	struct note *x = find(n, from);
	struct note *y = find(n, to);
	if (x == NULL) {
		res = -ENOENT;
	} else if (x != y) {
		if (y != NULL) {
			free(y->data);
			y->used = 0;
		}
		strcpy(x->name, to + 1);
	}
	pthread_mutex_unlock(&n->lock);
	return res;
}

static int notes_unlink(const char *path)
{
	struct notes *n = me();
	int res = 0;
	pthread_mutex_lock(&n->lock);
	struct note *x = find(n, path);
	if (x == NULL) {
		res = -ENOENT;
	} else {
		free(x->data);
		x->data = NULL;
		x->used = 0;
	}
	pthread_mutex_unlock(&n->lock);
	return res;
}

static const struct fuse_operations notes_ops = {
	.init = notes_init,
	.getattr = notes_getattr,
	.readdir = notes_readdir,
	.create = notes_create,
	.open = notes_open,
	.read = notes_read,
	.write = notes_write,
	.truncate = notes_truncate,
	.utimens = notes_utimens,
	.rename = notes_rename,
	.unlink = notes_unlink,
};

int main(int argc, char *argv[])
{
	static struct notes n;
	pthread_mutex_init(&n.lock, NULL);
	n.owner = getuid();
	return fuse_main(argc, argv, &notes_ops, &n);
}
