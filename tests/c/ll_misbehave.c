/*
 * A small low-level filesystem for tests/ll_session.rs: most of its files do something a
 * well-behaved filesystem would not, or expose what the library tells it about a request.
 *
 *   hello      "hello, session\n": proves the filesystem still serves.
 *   double     getattr answers twice (attr, then an error) and also answers a made-up
 *              request handle and NULL. Only safe on a library that refuses a second answer:
 *              on libfuse a second answer frees the request twice.
 *   block_cb   read never answers by itself; its interrupt callback answers EINTR.
 *   block_thr  read hands the request to a thread that polls fuse_req_interrupted() and then
 *              answers EINTR; the interrupt callback only notes that it ran.
 *   ctx        read returns the caller's uid, gid, pid and supplementary groups.
 *   noreply    read never answers (the request stays with the library until unmount).
 *   slow       read is answered ("slow\n") by a thread once LL_MARKS/slow.go exists.
 *   wrongtype  getattr answers with fuse_reply_open, an answer for another request type.
 *   errno      getattr answers with an errno no system has (123456).
 *   longlink   a symlink whose readlink answer is 8000 bytes long.
 *   longnames  a directory listing (packed the way hello_ll packs) with a 300-byte name
 *              and an empty one between two good names.
 *
 * Everything it wants the test to know goes to stderr, one line per event. If LL_MARKS names
 * a directory, the interrupt events also create empty files there (NAME.waiting,
 * NAME.interrupted), so a test can wait for them while the filesystem runs.
 * Command line: as libfuse's examples (fuse_parse_cmdline), plus the mountpoint.
 */
#define FUSE_USE_VERSION 31
#include <fuse_lowlevel.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	ROOT = 1, HELLO, DOUBLE, BLOCK_CB, BLOCK_THR, CTX, NOREPLY, WRONGTYPE, ERRNO, LONGLINK,
	LONGNAMES, SLOW, NFILES
};

static const char *const names[NFILES] = {
	[HELLO] = "hello",
	[DOUBLE] = "double",
	[BLOCK_CB] = "block_cb",
	[BLOCK_THR] = "block_thr",
	[CTX] = "ctx",
	[NOREPLY] = "noreply",
	[WRONGTYPE] = "wrongtype",
	[ERRNO] = "errno",
	[LONGLINK] = "longlink",
	[LONGNAMES] = "longnames",
	[SLOW] = "slow",
};

static const char hello_text[] = "hello, session\n";

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void mark(const char *name, const char *event)
{
	const char *dir = getenv("LL_MARKS");
	char path[4096];
	FILE *f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, event);
	f = fopen(path, "w");
	if (f != NULL)
		fclose(f);
}

static void fill_attr(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == ROOT || ino == LONGNAMES) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (ino == LONGLINK) {
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = 8000;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = ino == HELLO ? (off_t)strlen(hello_text) : 4096;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int i;

	if (parent != ROOT) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	for (i = HELLO; i < NFILES; i++) {
		if (strcmp(name, names[i]) == 0) {
			memset(&e, 0, sizeof(e));
			e.ino = i;
			fill_attr(i, &e.attr);
			fuse_reply_entry(req, &e);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int first, second, garbage, null;

	(void)fi;
	if (ino < ROOT || ino >= NFILES) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(ino, &st);
	if (ino == WRONGTYPE) {
		struct fuse_file_info ofi;

		memset(&ofi, 0, sizeof(ofi));
		say("wrongtype: reply_open to getattr returned %d\n", fuse_reply_open(req, &ofi));
		return;
	}
	if (ino == ERRNO) {
		say("errno: reply_err(123456) returned %d\n", fuse_reply_err(req, 123456));
		return;
	}
	if (ino != DOUBLE) {
		fuse_reply_attr(req, &st, 0.0);
		return;
	}
	first = fuse_reply_attr(req, &st, 0.0);
	second = fuse_reply_err(req, EIO);
	garbage = fuse_reply_err((fuse_req_t)0x1234, EIO);
	null = fuse_reply_err(NULL, EIO);
	say("double: first=%d second=%d garbage=%d null=%d\n", first, second, garbage, null);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino == ROOT) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	/* Reads go straight to us, synchronously: a page-cache read would be sent as a
	 * background request, which the kernel never interrupts. */
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

/* block_cb: the interrupt callback is the one that answers. */
static void answer_on_interrupt(fuse_req_t req, void *data)
{
	int r;

	(void)data;
	say("block_cb: interrupt callback ran, interrupted=%d\n", fuse_req_interrupted(req));
	mark("block_cb", "interrupted");
	r = fuse_reply_err(req, EINTR);
	say("block_cb: reply from callback returned %d\n", r);
}

/* block_thr: the callback only notes it ran; a thread answers. */
static void note_interrupt(fuse_req_t req, void *data)
{
	(void)req;
	(void)data;
	say("block_thr: interrupt callback ran\n");
	mark("block_thr", "interrupted");
}

static void *wait_for_interrupt(void *arg)
{
	fuse_req_t req = arg;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int i, seen = 0, r;

	for (i = 0; i < 6000 && !seen; i++) {
		seen = fuse_req_interrupted(req);
		if (!seen)
			nanosleep(&tick, NULL);
	}
	r = fuse_reply_err(req, EINTR);
	say("block_thr: worker saw interrupted=%d, reply returned %d\n", seen, r);
	return NULL;
}

struct slow_read {
	fuse_req_t req;
	off_t off;
};

static void *answer_when_told(void *arg)
{
	struct slow_read *r = arg;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	const char *dir = getenv("LL_MARKS");
	char path[4096];
	int i, ret;

	snprintf(path, sizeof(path), "%s/slow.go", dir ? dir : ".");
	for (i = 0; i < 6000 && access(path, F_OK) != 0; i++)
		nanosleep(&tick, NULL);
	if (r->off > 0)
		ret = fuse_reply_buf(r->req, NULL, 0);
	else
		ret = fuse_reply_buf(r->req, "slow\n", 5);
	say("slow: answered after %d ticks, reply returned %d\n", i, ret);
	free(r);
	return NULL;
}

static void read_ctx(fuse_req_t req, off_t off)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	gid_t groups[64];
	char text[1024];
	int n, i, len;

	n = fuse_req_getgroups(req, 64, groups);
	len = snprintf(text, sizeof(text), "uid=%u gid=%u pid=%d ngroups=%d groups=",
		       (unsigned)c->uid, (unsigned)c->gid, (int)c->pid, n);
	for (i = 0; i < n && i < 64 && len < (int)sizeof(text) - 16; i++)
		len += snprintf(text + len, sizeof(text) - len, "%s%u", i ? "," : "",
				(unsigned)groups[i]);
	len += snprintf(text + len, sizeof(text) - len, "\n");
	if (off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, text + off, len - off);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t len = strlen(hello_text);
	pthread_t t;

	(void)fi;
	switch (ino) {
	case HELLO:
		if ((size_t)off >= len)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_buf(req, hello_text + off,
				       size < len - off ? size : len - off);
		return;
	case BLOCK_CB:
		say("block_cb: read waiting\n");
		fuse_req_interrupt_func(req, answer_on_interrupt, NULL);
		mark("block_cb", "waiting");
		return;
	case BLOCK_THR:
		say("block_thr: read waiting\n");
		fuse_req_interrupt_func(req, note_interrupt, NULL);
		if (pthread_create(&t, NULL, wait_for_interrupt, req) != 0) {
			fuse_reply_err(req, EAGAIN);
			return;
		}
		pthread_detach(t);
		mark("block_thr", "waiting");
		return;
	case CTX:
		read_ctx(req, off);
		return;
	case SLOW: {
		struct slow_read *r = malloc(sizeof(*r));

		if (r == NULL) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		r->req = req;
		r->off = off;
		if (pthread_create(&t, NULL, answer_when_told, r) != 0) {
			free(r);
			fuse_reply_err(req, EAGAIN);
			return;
		}
		pthread_detach(t);
		mark("slow", "waiting");
		return;
	}
	case NOREPLY:
		say("noreply: read left unanswered\n");
		mark("noreply", "waiting");
		return;
	default:
		fuse_reply_buf(req, NULL, 0);
	}
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	static char target[8001];

	if (ino != LONGLINK) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	memset(target, 't', sizeof(target) - 1);
	say("longlink: reply_readlink(8000 bytes) returned %d\n", fuse_reply_readlink(req, target));
}

/* hello_ll's way of building a listing: ask for the size, grow, pack at the end. */
struct dirbuf {
	char *p;
	size_t size;
};

static void dirbuf_add(fuse_req_t req, struct dirbuf *b, const char *name, fuse_ino_t ino)
{
	struct stat st;
	size_t oldsize = b->size;

	b->size += fuse_add_direntry(req, NULL, 0, name, NULL, 0);
	b->p = realloc(b->p, b->size ? b->size : 1);
	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	fuse_add_direntry(req, b->p + oldsize, b->size - oldsize, name, &st, b->size);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dirbuf b = { NULL, 0 };
	char longname[301];

	(void)fi;
	if (ino != LONGNAMES) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	memset(longname, 'n', 300);
	longname[300] = '\0';
	say("longnames: listing built\n");
	dirbuf_add(req, &b, ".", LONGNAMES);
	dirbuf_add(req, &b, "..", ROOT);
	dirbuf_add(req, &b, "good1", HELLO);
	dirbuf_add(req, &b, longname, HELLO);
	dirbuf_add(req, &b, "", HELLO);
	dirbuf_add(req, &b, "good2", HELLO);
	if ((size_t)off < b.size)
		fuse_reply_buf(req, b.p + off, b.size - off < size ? b.size - off : size);
	else
		fuse_reply_buf(req, NULL, 0);
	free(b.p);
}

static const struct fuse_lowlevel_ops ops = {
	.readlink = op_readlink,
	.readdir = op_readdir,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.open = op_open,
	.read = op_read,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;
	int ret = 1;

	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (opts.mountpoint == NULL) {
		fprintf(stderr, "usage: %s [options] <mountpoint>\n", argv[0]);
		goto out_args;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (se == NULL)
		goto out_mp;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_se;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_sig;
	fuse_daemonize(opts.foreground);
	say("serving (%s loop)\n", opts.singlethread ? "single-threaded" : "multithreaded");
	if (opts.singlethread)
		ret = fuse_session_loop(se);
	else
		ret = fuse_session_loop_mt(se, opts.clone_fd);
	say("loop returned %d\n", ret);
	fuse_session_unmount(se);
out_sig:
	fuse_remove_signal_handlers(se);
out_se:
	fuse_session_destroy(se);
out_mp:
	free(opts.mountpoint);
out_args:
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
