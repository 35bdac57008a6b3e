/*
 * mirror_pt: mirror the regular files of one directory, opened in FUSE passthrough mode.
 *
 * Opening a file opens the source file and registers it with the kernel as the backing file
 * (fuse_passthrough_open); reads and writes then go from the kernel straight to it, without
 * reaching this daemon. The daemon counts the READ and WRITE requests it still gets (none,
 * when passthrough is in effect), the backing files it registered and released, and prints
 * the counts when it exits. Without passthrough (not root, or an old kernel) it serves reads
 * and writes itself.
 *
 *   mirror_pt [-f] [-d] -o source=DIR MOUNTPOINT
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

static int source_fd = -1;
static char *source;
static int passthrough;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Inode i + 2 is names[i]. */
static char *names[MAX_FILES];
static unsigned long n_read, n_write, n_open, n_backing_open, n_backing_close, n_backing_fail;
/* The backing id registered for each open source fd (RELEASE does not bring it back). */
#define MAX_FDS 65536
static int backing_of_fd[MAX_FDS];

static const struct fuse_opt mirror_opts[] = {
	{ "source=%s", 0, 0 },
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
	/* Passthrough needs the kernel's consent and excludes the writeback cache. */
	if (fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH))
		passthrough = 1;
	fuse_unset_feature_flag(conn, FUSE_CAP_WRITEBACK_CACHE);
}

static void m_destroy(void *userdata)
{
	(void)userdata;
	fprintf(stderr,
		"mirror_pt: passthrough=%d opens=%lu reads=%lu writes=%lu backing_open=%lu "
		"backing_close=%lu backing_fail=%lu\n",
		passthrough, n_open, n_read, n_write, n_backing_open, n_backing_close,
		n_backing_fail);
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
	fi->fh = (uint64_t)fd;
	if (passthrough) {
		int id = fuse_passthrough_open(req, fd);
		if (id > 0) {
			fi->backing_id = id;
			if (fd < MAX_FDS)
				backing_of_fd[fd] = id;
			__atomic_add_fetch(&n_backing_open, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&n_backing_fail, 1, __ATOMIC_RELAXED);
		}
	}
	fuse_reply_open(req, fi);
}

static void m_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int fd = (int)fi->fh;
	(void)ino;
	if (fd >= 0 && fd < MAX_FDS && backing_of_fd[fd] > 0) {
		if (fuse_passthrough_close(req, backing_of_fd[fd]) >= 0)
			__atomic_add_fetch(&n_backing_close, 1, __ATOMIC_RELAXED);
		backing_of_fd[fd] = 0;
	}
	close(fd);
	fuse_reply_err(req, 0);
}

static void m_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	(void)ino;
	__atomic_add_fetch(&n_read, 1, __ATOMIC_RELAXED);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = (int)fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void m_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	ssize_t n;
	(void)ino;
	__atomic_add_fetch(&n_write, 1, __ATOMIC_RELAXED);
	n = pwrite((int)fi->fh, data, size, off);
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

	if (fuse_opt_parse(&args, &source, mirror_opts, NULL) != 0)
		return 1;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (!source || !opts.mountpoint) {
		fprintf(stderr, "usage: %s [-f] [-d] -o source=DIR MOUNTPOINT\n", argv[0]);
		goto out_args;
	}
	source_fd = open(source, O_RDONLY | O_DIRECTORY);
	if (source_fd < 0) {
		perror(source);
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
	free(source);
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
