/* A low-level filesystem whose reads only finish together: reading /barrier blocks in the
 * read callback until BARRIER_N reads (default 4) are inside it at once, then every one of them
 * answers "met N\n"; a read that waits 20 s answers "alone K\n" (K: how many were inside).
 * A loop that handles requests on fewer threads than that, or that stops reading while its
 * callbacks block, never gets the others in: the reads time out instead.
 * /hello answers at once, for checking the daemon still serves. Built against the libfuse
 * headers of the test (Debian's), run on either library. */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum { INO_BARRIER = 2, INO_HELLO = 3 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int inside, need, generation;

static int fill(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (ino == INO_BARRIER || ino == INO_HELLO) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = 64;
	} else {
		return -1;
	}
	return 0;
}

static void b_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	memset(&e, 0, sizeof(e));
	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (strcmp(name, "barrier") == 0)
		e.ino = INO_BARRIER;
	else if (strcmp(name, "hello") == 0)
		e.ino = INO_HELLO;
	else {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill(e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void b_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	(void)fi;
	if (fill(ino, &st) != 0)
		fuse_reply_err(req, ENOENT);
	else
		fuse_reply_attr(req, &st, 0);
}

static void b_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void b_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	char msg[64];
	(void)fi;
	if (off > 0) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (ino == INO_HELLO) {
		snprintf(msg, sizeof(msg), "hello\n");
	} else {
		struct timespec until;
		int gen, met = 1;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 20;
		pthread_mutex_lock(&lock);
		gen = generation;
		inside++;
		if (inside >= need) {
			generation++;
			pthread_cond_broadcast(&cond);
		}
		while (generation == gen) {
			if (pthread_cond_timedwait(&cond, &lock, &until) == ETIMEDOUT) {
				met = generation != gen;
				break;
			}
		}
		if (met)
			snprintf(msg, sizeof(msg), "met %d\n", need);
		else
			snprintf(msg, sizeof(msg), "alone %d\n", inside);
		inside--;
		pthread_mutex_unlock(&lock);
	}
	if (strlen(msg) < size)
		size = strlen(msg);
	fuse_reply_buf(req, msg, size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = b_lookup,
	.getattr = b_getattr,
	.open = b_open,
	.read = b_read,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;
	struct fuse_loop_config *cfg;
	const char *n = getenv("BARRIER_N");
	int ret = 1;

	need = n ? atoi(n) : 4;
	if (fuse_parse_cmdline(&args, &opts) != 0 || !opts.mountpoint)
		return 1;
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		return 1;
	if (fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, opts.mountpoint) != 0)
		return 1;
	if (opts.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		cfg = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(cfg, opts.clone_fd);
		fuse_loop_cfg_set_max_threads(cfg, opts.max_threads);
		ret = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
