/*
 * notes_ll: a small in-memory filesystem on the low-level API.
 *
 * One flat directory of regular files kept in memory: create, write, read, truncate, rename,
 * unlink, and list them. Nothing survives unmounting. It is ferrofuse's demo and is written
 * against the libfuse 3 low-level API only, so it builds unchanged against libfuse's headers
 * and against ferrofuse's.
 *
 *   notes_ll [-f] [-s] [-d] [-o opt,...] MOUNTPOINT
 */
#define FUSE_USE_VERSION 34

#include <fuse_lowlevel.h>

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
#define ROOT_INO 1

struct note {
	int used;
	char name[256];
	char *data;
	size_t size;
	mode_t mode;
	struct timespec mtime;
};

/* Slot i holds inode i + 2. */
static struct note notes[MAX_NOTES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct note *by_ino(fuse_ino_t ino)
{
	if (ino < 2 || ino - 2 >= MAX_NOTES || !notes[ino - 2].used)
		return NULL;
	return &notes[ino - 2];
}

static int find(const char *name)
{
	for (int i = 0; i < MAX_NOTES; i++)
		if (notes[i].used && strcmp(notes[i].name, name) == 0)
			return i;
	return -1;
}

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (ino == ROOT_INO) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return;
	}
	struct note *n = by_ino(ino);
	st->st_mode = S_IFREG | (n->mode & 07777);
	st->st_nlink = 1;
	st->st_size = (off_t)n->size;
	st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
	st->st_mtim = n->mtime;
	st->st_ctim = n->mtime;
	st->st_atim = n->mtime;
}

static void reply_entry(fuse_req_t req, fuse_ino_t ino)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	e.ino = ino;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	fill_stat(ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void notes_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	pthread_mutex_lock(&lock);
	int i = parent == ROOT_INO ? find(name) : -1;
	if (i < 0) {
		pthread_mutex_unlock(&lock);
		fuse_reply_err(req, ENOENT);
		return;
	}
	reply_entry(req, (fuse_ino_t)i + 2);
	pthread_mutex_unlock(&lock);
}

static void notes_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	pthread_mutex_lock(&lock);
	if (ino != ROOT_INO && !by_ino(ino)) {
		pthread_mutex_unlock(&lock);
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	pthread_mutex_unlock(&lock);
	fuse_reply_attr(req, &st, 1.0);
}

static int resize(struct note *n, size_t size)
{
	if (size > n->size) {
		char *p = realloc(n->data, size);
		if (!p)
			return ENOMEM;
		memset(p + n->size, 0, size - n->size);
		n->data = p;
	}
	n->size = size;
	clock_gettime(CLOCK_REALTIME, &n->mtime);
	return 0;
}

static void notes_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			  struct fuse_file_info *fi)
{
	(void)fi;
	int err = 0;
	pthread_mutex_lock(&lock);
	struct note *n = by_ino(ino);
	if (!n && ino != ROOT_INO)
		err = ENOENT;
	else if (n && (to_set & FUSE_SET_ATTR_SIZE))
		err = resize(n, (size_t)attr->st_size);
	if (!err && n && (to_set & FUSE_SET_ATTR_MODE))
		n->mode = attr->st_mode & 07777;
	if (!err && n && (to_set & FUSE_SET_ATTR_MTIME))
		n->mtime = attr->st_mtim;
	pthread_mutex_unlock(&lock);
	if (err)
		fuse_reply_err(req, err);
	else
		notes_getattr(req, ino, NULL);
}

static void notes_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	if (parent != ROOT_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (strlen(name) >= sizeof(notes[0].name)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&lock);
	int i = find(name);
	if (i < 0) {
		for (i = 0; i < MAX_NOTES && notes[i].used; i++)
			;
		if (i == MAX_NOTES) {
			pthread_mutex_unlock(&lock);
			fuse_reply_err(req, ENOSPC);
			return;
		}
		memset(&notes[i], 0, sizeof(notes[i]));
		notes[i].used = 1;
		strcpy(notes[i].name, name);
		notes[i].mode = mode & 07777;
		clock_gettime(CLOCK_REALTIME, &notes[i].mtime);
	}
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	e.ino = (fuse_ino_t)i + 2;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	fill_stat(e.ino, &e.attr);
	pthread_mutex_unlock(&lock);
	fi->fh = 0;
	fuse_reply_create(req, &e, fi);
}

static void notes_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	pthread_mutex_lock(&lock);
	struct note *n = by_ino(ino);
	int err = n ? 0 : (ino == ROOT_INO ? EISDIR : ENOENT);
	if (!err && (fi->flags & O_TRUNC))
		err = resize(n, 0);
	pthread_mutex_unlock(&lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_open(req, fi);
}

static void notes_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	pthread_mutex_lock(&lock);
	struct note *n = by_ino(ino);
	if (!n) {
		pthread_mutex_unlock(&lock);
		fuse_reply_err(req, ENOENT);
		return;
	}
	size_t start = (size_t)off < n->size ? (size_t)off : n->size;
	size_t len = n->size - start < size ? n->size - start : size;
	fuse_reply_buf(req, n->data ? n->data + start : NULL, len);
	pthread_mutex_unlock(&lock);
}

static void notes_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	(void)fi;
	int err = 0;
	pthread_mutex_lock(&lock);
	struct note *n = by_ino(ino);
	if (!n)
		err = ENOENT;
	else if ((size_t)off + size > n->size)
		err = resize(n, (size_t)off + size);
	if (!err) {
		memcpy(n->data + off, buf, size);
		clock_gettime(CLOCK_REALTIME, &n->mtime);
	}
	pthread_mutex_unlock(&lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

static void notes_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	pthread_mutex_lock(&lock);
	int i = parent == ROOT_INO ? find(name) : -1;
	if (i >= 0) {
		free(notes[i].data);
		memset(&notes[i], 0, sizeof(notes[i]));
	}
	pthread_mutex_unlock(&lock);
	fuse_reply_err(req, i >= 0 ? 0 : ENOENT);
}

static void notes_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	if (parent != ROOT_INO || newparent != ROOT_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (flags) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (strlen(newname) >= sizeof(notes[0].name)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&lock);
	int i = find(name);
	int j = find(newname);
	if (i >= 0 && j >= 0 && i != j) {
		free(notes[j].data);
		memset(&notes[j], 0, sizeof(notes[j]));
	}
	if (i >= 0)
		strcpy(notes[i].name, newname);
	pthread_mutex_unlock(&lock);
	fuse_reply_err(req, i >= 0 ? 0 : ENOENT);
}

static void notes_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	(void)fi;
	if (ino != ROOT_INO) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	struct stat st;
	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&lock);
	/* Offsets: 1 is ".", 2 is "..", i + 3 is slot i. */
	for (off_t next = off + 1; next <= MAX_NOTES + 2; next++) {
		const char *name;
		if (next == 1) {
			name = ".";
			st.st_ino = ROOT_INO;
			st.st_mode = S_IFDIR;
		} else if (next == 2) {
			name = "..";
			st.st_ino = ROOT_INO;
			st.st_mode = S_IFDIR;
		} else if (notes[next - 3].used) {
			name = notes[next - 3].name;
			st.st_ino = (ino_t)next - 1;
			st.st_mode = S_IFREG;
		} else {
			continue;
		}
		size_t need = fuse_add_direntry(req, buf + used, size - used, name, &st, next);
		if (need > size - used)
			break;
		used += need;
	}
	pthread_mutex_unlock(&lock);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static const struct fuse_lowlevel_ops notes_ops = {
	.lookup = notes_lookup,
	.getattr = notes_getattr,
	.setattr = notes_setattr,
	.create = notes_create,
	.open = notes_open,
	.read = notes_read,
	.write = notes_write,
	.unlink = notes_unlink,
	.rename = notes_rename,
	.readdir = notes_readdir,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_loop_config config;
	struct fuse_session *se;
	int ret = 1;

	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (opts.show_help) {
		printf("usage: %s [options] <mountpoint>\n\n", argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out_args;
	}
	if (opts.show_version) {
		printf("FUSE library version %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (opts.mountpoint == NULL) {
		fprintf(stderr, "usage: %s [options] <mountpoint>\n", argv[0]);
		goto out_args;
	}
	se = fuse_session_new(&args, &notes_ops, sizeof(notes_ops), NULL);
	if (se == NULL)
		goto out_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(opts.foreground);
	if (opts.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		config.clone_fd = opts.clone_fd;
		config.max_idle_threads = opts.max_idle_threads;
		ret = fuse_session_loop_mt(se, &config);
	}
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
