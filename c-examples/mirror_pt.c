/*
 * mirror_pt: mirror the regular files of one directory, opened in FUSE passthrough mode.
 *
 * Opening a file opens the source file and registers it with the kernel as the backing file
 * (fuse_passthrough_open); reads and writes then go from the kernel straight to it, without
 * reaching this daemon. The kernel wants every passthrough open of one inode to name the same
 * backing file, so the registration is kept per inode while any open of it lasts, and reused.
 * The daemon counts the READ and WRITE requests it still gets (none, when passthrough is in
 * effect), the backing files it registered, reused and released, and prints the counts when
 * it exits. When registering fails (not root, no passthrough in the kernel or for this mount,
 * a source stacked too deep) the open goes ahead without passthrough and the daemon serves
 * reads and writes itself.
 *
 *   mirror_pt [-f] [-d] [-s] -o source=DIR [-o writeback] [-o direct_io]
 *             [-o backing_depth=N] [-o force_backing_id=N] MOUNTPOINT
 *
 * writeback: also ask for the writeback cache (the kernel then refuses passthrough).
 * direct_io: open files with direct_io as well as a backing file.
 * backing_depth=N: the stacking depth of backing files (conn->max_backing_stack_depth; 0, the
 * default, means the source must not itself be a passthrough FUSE mount).
 * force_backing_id=N (for tests): claim backing id N for opens that got none; the kernel
 * then fails those opens with EIO.
 */
#define FUSE_USE_VERSION 317
#include <fuse_lowlevel.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 4096
#define HAS_BACKING (1ULL << 32)
#define FD_OF(fi) ((int)((fi)->fh & 0xffffffffu))

struct mirror_opts {
	char *source;
	int writeback;
	int direct_io;
	unsigned backing_depth;
	int force_backing_id;
};

static struct mirror_opts mo;
static int source_fd = -1;
static int passthrough;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Inode i + 2 is names[i]. */
static char *names[MAX_FILES];
/* The backing id of inode i + 2 while backing_refs[i] passthrough opens of it last. */
static int backing_id[MAX_FILES];
static unsigned backing_refs[MAX_FILES];
static unsigned long n_read, n_write, n_open, n_backing_open, n_backing_reuse, n_backing_close,
	n_backing_fail;

#define MIRROR_OPT(t, p) { t, offsetof(struct mirror_opts, p), 1 }
static const struct fuse_opt mirror_opts[] = {
	{ "source=%s", offsetof(struct mirror_opts, source), 0 },
	{ "backing_depth=%u", offsetof(struct mirror_opts, backing_depth), 0 },
	{ "force_backing_id=%d", offsetof(struct mirror_opts, force_backing_id), 0 },
	MIRROR_OPT("writeback", writeback),
	MIRROR_OPT("direct_io", direct_io),
	FUSE_OPT_END
};

static fuse_ino_t ino_of(const char *name)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_FILES; i++) {
		if (names[i] && strcmp(names[i], name) == 0) {
			pthread_mutex_unlock(&lock);
			return (fuse_ino_t)i + 2;
		}
	}
	for (int i = 0; i < MAX_FILES; i++) {
		if (!names[i]) {
			names[i] = strdup(name);
			pthread_mutex_unlock(&lock);
			return names[i] ? (fuse_ino_t)i + 2 : 0;
		}
	}
	pthread_mutex_unlock(&lock);
	return 0;
}

static const char *name_of(fuse_ino_t ino)
{
	if (ino < 2 || ino - 2 >= MAX_FILES)
		return NULL;
	return names[ino - 2];
}

static int stat_ino(fuse_ino_t ino, struct stat *st)
{
	if (ino == FUSE_ROOT_ID)
		return fstat(source_fd, st) == 0 ? 0 : errno;
	const char *name = name_of(ino);
	if (!name)
		return ENOENT;
	if (fstatat(source_fd, name, st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno;
	st->st_ino = ino;
	return 0;
}

static void m_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* Passthrough needs the kernel's consent; the kernel refuses it with the writeback cache. */
	if (fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH))
		passthrough = 1;
	if (mo.writeback)
		fuse_set_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
	else
		fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
	conn->max_backing_stack_depth = mo.backing_depth;
}

static void m_destroy(void *userdata)
{
	(void)userdata;
	fprintf(stderr,
		"mirror_pt: passthrough=%d opens=%lu reads=%lu writes=%lu backing_open=%lu "
		"backing_reuse=%lu backing_close=%lu backing_fail=%lu\n",
		passthrough, n_open, n_read, n_write, n_backing_open, n_backing_reuse,
		n_backing_close, n_backing_fail);
}

static void m_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int err;
	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	if (fstatat(source_fd, name, &e.attr, AT_SYMLINK_NOFOLLOW) != 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if (!S_ISREG(e.attr.st_mode)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.ino = ino_of(name);
	if (!e.ino) {
		fuse_reply_err(req, ENOSPC);
		return;
	}
	err = stat_ino(e.ino, &e.attr);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	e.attr_timeout = 0;
	e.entry_timeout = 0;
	fuse_reply_entry(req, &e);
}

static void m_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int err;
	(void)fi;
	err = stat_ino(ino, &st);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, 0);
}

/* A backing id for inode ino's open source fd: the inode's current one, or a new one
 * registered now. 0 when the kernel refuses (the open then goes without passthrough). */
static int backing_get(fuse_req_t req, fuse_ino_t ino, int fd)
{
	size_t i = ino - 2;
	int id;
	pthread_mutex_lock(&lock);
	if (backing_refs[i] > 0) {
		backing_refs[i]++;
		id = backing_id[i];
		pthread_mutex_unlock(&lock);
		__atomic_add_fetch(&n_backing_reuse, 1, __ATOMIC_RELAXED);
		return id;
	}
	id = fuse_passthrough_open(req, fd);
	if (id > 0) {
		backing_id[i] = id;
		backing_refs[i] = 1;
		__atomic_add_fetch(&n_backing_open, 1, __ATOMIC_RELAXED);
	} else {
		id = 0;
		__atomic_add_fetch(&n_backing_fail, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&lock);
	return id;
}

/* One passthrough open of inode ino ended: release its backing id after the last. */
static void backing_put(fuse_req_t req, fuse_ino_t ino)
{
	size_t i = ino - 2;
	pthread_mutex_lock(&lock);
	if (backing_refs[i] > 0 && --backing_refs[i] == 0) {
		if (fuse_passthrough_close(req, backing_id[i]) >= 0)
			__atomic_add_fetch(&n_backing_close, 1, __ATOMIC_RELAXED);
		backing_id[i] = 0;
	}
	pthread_mutex_unlock(&lock);
}

static void m_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		      struct fuse_file_info *fi)
{
	const char *name = name_of(ino);
	struct stat st;
	int err = 0;
	if (!name) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EPERM : ENOENT);
		return;
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		err = fchmodat(source_fd, name, attr->st_mode & 07777, 0) ? errno : 0;
	if (!err && (to_set & FUSE_SET_ATTR_SIZE)) {
		int fd = fi ? FD_OF(fi) : openat(source_fd, name, O_WRONLY);
		if (fd < 0 || ftruncate(fd, attr->st_size) != 0)
			err = errno;
		if (!fi && fd >= 0)
			close(fd);
	}
	if (!err && (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
		if (to_set & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_ATIME)
			ts[0] = attr->st_atim;
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (to_set & FUSE_SET_ATTR_MTIME)
			ts[1] = attr->st_mtim;
		err = utimensat(source_fd, name, ts, AT_SYMLINK_NOFOLLOW) ? errno : 0;
	}
	if (!err)
		err = stat_ino(ino, &st);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, 0);
}

static void m_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const char *name = name_of(ino);
	int fd;
	if (!name) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
		return;
	}
	fd = openat(source_fd, name, fi->flags & ~O_NOFOLLOW);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	__atomic_add_fetch(&n_open, 1, __ATOMIC_RELAXED);
	if (mo.direct_io)
		fi->direct_io = 1;
	if (passthrough)
		fi->backing_id = backing_get(req, ino, fd);
	/* The low 32 bits are the source fd; HAS_BACKING marks a passthrough open. */
	fi->fh = (uint64_t)fd | (fi->backing_id > 0 ? HAS_BACKING : 0);
	if (fi->backing_id <= 0 && mo.force_backing_id)
		fi->backing_id = mo.force_backing_id;
	if (fuse_reply_open(req, fi) != 0) {
		/* No RELEASE will come for an open the kernel never saw. */
		if (fi->fh & HAS_BACKING)
			backing_put(req, ino);
		close(fd);
	}
}

static void m_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (fi->fh & HAS_BACKING)
		backing_put(req, ino);
	close(FD_OF(fi));
	fuse_reply_err(req, 0);
}

static void m_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	(void)ino;
	__atomic_add_fetch(&n_read, 1, __ATOMIC_RELAXED);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = FD_OF(fi);
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void m_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	ssize_t n;
	(void)ino;
	__atomic_add_fetch(&n_write, 1, __ATOMIC_RELAXED);
	n = pwrite(FD_OF(fi), data, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void m_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	DIR *d;
	struct dirent *de;
	char *buf;
	size_t used = 0;
	off_t pos = 0;
	int dfd;
	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	dfd = openat(source_fd, ".", O_RDONLY | O_DIRECTORY);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	buf = malloc(size);
	if (!d || !buf) {
		if (d)
			closedir(d);
		else if (dfd >= 0)
			close(dfd);
		free(buf);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_type != DT_REG)
			continue;
		if (++pos <= off)
			continue;
		memset(&st, 0, sizeof(st));
		st.st_ino = ino_of(de->d_name);
		st.st_mode = S_IFREG;
		size_t need = fuse_add_direntry(req, buf + used, size - used, de->d_name, &st, pos);
		if (need > size - used)
			break;
		used += need;
	}
	closedir(d);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static const struct fuse_lowlevel_ops mirror_ops = {
	.init = m_init,
	.destroy = m_destroy,
	.lookup = m_lookup,
	.getattr = m_getattr,
	.setattr = m_setattr,
	.open = m_open,
	.release = m_release,
	.read = m_read,
	.write = m_write,
	.readdir = m_readdir,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;
	int ret = 1;

	if (fuse_opt_parse(&args, &mo, mirror_opts, NULL) != 0)
		return 1;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (!mo.source || !opts.mountpoint) {
		fprintf(stderr,
			"usage: %s [-f] [-d] [-s] -o source=DIR [-o writeback] [-o direct_io] "
			"[-o backing_depth=N] [-o force_backing_id=N] MOUNTPOINT\n",
			argv[0]);
		goto out_args;
	}
	source_fd = open(mo.source, O_RDONLY | O_DIRECTORY);
	if (source_fd < 0) {
		perror(mo.source);
		goto out_args;
	}
	se = fuse_session_new(&args, &mirror_ops, sizeof(mirror_ops), NULL);
	if (se == NULL)
		goto out_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(opts.foreground);
	ret = opts.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, NULL);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_args:
	free(opts.mountpoint);
	free(mo.source);
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
