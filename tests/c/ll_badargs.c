/*
 * Calls the low-level API with NULL, empty and garbage arguments, without mounting, and
 * prints one line per call with what came back, so runs on two libraries can be compared.
 *
 *   ll_badargs common   calls libfuse survives: the test compares Debian's output with ours
 *   ll_badargs ours     calls on which libfuse dereferences NULL or a freed request: only run
 *                       on ferrofuse, which must refuse them with an error
 *
 * Built with -DVERSIONED against ferrofuse's headers (FUSE_USE_VERSION 317) it checks
 * fuse_session_new_versioned() instead, which Debian's 3.14 does not have.
 */
#ifdef VERSIONED
#define FUSE_USE_VERSION 317
#else
#define FUSE_USE_VERSION 31
#endif
#include <fuse_lowlevel.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char prog[] = "ll_badargs";
static char *argv1[] = { prog, NULL };

static void hex(const char *what, const unsigned char *p, size_t n)
{
	size_t i;

	printf("%s:", what);
	for (i = 0; i < n; i++)
		printf(" %02x", p[i]);
	printf("\n");
}

#ifdef VERSIONED
static const struct fuse_lowlevel_ops some_ops;

static void versioned(void)
{
	struct fuse_args args = FUSE_ARGS_INIT(1, argv1);
	struct libfuse_version v = { 3, 17, 0, 0 };
	struct fuse_session *se;

	se = fuse_session_new_versioned(&args, NULL, sizeof(some_ops), &v, NULL);
	printf("versioned NULL ops: %s\n", se ? "session" : "NULL");
	se = fuse_session_new_versioned(&args, &some_ops, 0, &v, NULL);
	printf("versioned op_size 0: %s\n", se ? "session" : "NULL");
	se = fuse_session_new_versioned(&args, &some_ops, sizeof(some_ops), NULL, NULL);
	printf("versioned NULL version: %s\n", se ? "session" : "NULL");
	se = fuse_session_new_versioned(&args, &some_ops, sizeof(some_ops), &v, NULL);
	printf("versioned good: %s\n", se ? "session" : "NULL");
	if (se)
		fuse_session_destroy(se);
	fuse_opt_free_args(&args);
}
#endif

static void common(void)
{
	struct fuse_args empty = FUSE_ARGS_INIT(0, NULL);
	struct fuse_args args = FUSE_ARGS_INIT(1, argv1);
	struct fuse_session *se;
	struct stat st;
	unsigned char buf[256];
	size_t n, need;
	char src1[] = "0123456789", src2[] = "abcdef", dst[32];
	struct fuse_bufvec *in;
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(sizeof(dst));
	ssize_t copied;

	/* argc 0: refused with a log line */
	se = fuse_session_new(&empty, NULL, 0, NULL);
	printf("session_new argc 0: %s\n", se ? "session" : "NULL");
	fflush(stdout);

	/* NULL ops with size 0: a mount-only session (fuser builds these) */
	se = fuse_session_new(&args, NULL, 0, NULL);
	printf("session_new NULL ops: %s\n", se ? "session" : "NULL");
	if (se) {
		printf("  fd before mount: %d\n", fuse_session_fd(se));
		printf("  exited: %d\n", fuse_session_exited(se));
		fuse_session_exit(se);
		printf("  exited after exit: %d\n", fuse_session_exited(se) != 0);
		fuse_session_reset(se);
		printf("  exited after reset: %d\n", fuse_session_exited(se));
		fuse_session_destroy(se);
	}
	fuse_opt_free_args(&args);
	fflush(stdout);

	/* directory entries: size probe, too small a buffer (must not be touched), a fit */
	memset(&st, 0, sizeof(st));
	st.st_ino = 42;
	st.st_mode = S_IFREG | 0644;
	need = fuse_add_direntry(NULL, NULL, 0, "name.txt", &st, 7);
	printf("add_direntry probe: %zu\n", need);
	memset(buf, 0xAA, sizeof(buf));
	n = fuse_add_direntry(NULL, (char *)buf, need - 1, "name.txt", &st, 7);
	printf("add_direntry too small: %zu, canary %s\n", n,
	       buf[0] == 0xAA && buf[need - 2] == 0xAA ? "intact" : "overwritten");
	n = fuse_add_direntry(NULL, (char *)buf, sizeof(buf), "name.txt", &st, 7);
	printf("add_direntry fits: %zu, byte after %02x\n", n, buf[n]);
	hex("  entry", buf, n);
	{
		struct fuse_entry_param e;

		memset(&e, 0, sizeof(e));
		e.ino = 42;
		e.attr = st;
		e.attr_timeout = 1.5;
		e.entry_timeout = 2.0;
		need = fuse_add_direntry_plus(NULL, NULL, 0, "plus", &e, 9);
		printf("add_direntry_plus probe: %zu\n", need);
		memset(buf, 0xAA, sizeof(buf));
		n = fuse_add_direntry_plus(NULL, (char *)buf, need - 1, "plus", &e, 9);
		printf("add_direntry_plus too small: %zu, canary %s\n", n,
		       buf[0] == 0xAA ? "intact" : "overwritten");
		n = fuse_add_direntry_plus(NULL, (char *)buf, sizeof(buf), "plus", &e, 9);
		printf("add_direntry_plus fits: %zu\n", n);
		hex("  entry", buf, n);
	}
	fflush(stdout);

	/* buffer copy, memory to memory, from a two-element vector (element stride matters) */
	in = calloc(1, sizeof(*in) + sizeof(struct fuse_buf));
	in->count = 2;
	in->buf[0].size = strlen(src1);
	in->buf[0].mem = src1;
	in->buf[1].size = strlen(src2);
	in->buf[1].mem = src2;
	printf("buf_size: %zu\n", fuse_buf_size(in));
	memset(dst, 0, sizeof(dst));
	out.buf[0].mem = dst;
	copied = fuse_buf_copy(&out, in, 0);
	printf("buf_copy: %zd \"%s\"\n", copied, dst);
	/* a destination smaller than the source: copies what fits */
	memset(dst, 0, sizeof(dst));
	in->idx = 0;
	in->off = 0;
	out.idx = 0;
	out.off = 0;
	out.buf[0].size = 12;
	copied = fuse_buf_copy(&out, in, 0);
	printf("buf_copy short dst: %zd \"%s\"\n", copied, dst);
	/* an empty source */
	in->count = 1;
	in->idx = 0;
	in->off = 0;
	in->buf[0].size = 0;
	out.idx = 0;
	out.off = 0;
	copied = fuse_buf_copy(&out, in, 0);
	printf("buf_copy empty: %zd\n", copied);
	free(in);
	fflush(stdout);
}

/* Calls on which libfuse itself would dereference NULL or unmapped memory. */
static void ours_only(void)
{
	static const struct fuse_lowlevel_ops full_ops;
	struct fuse_args args = FUSE_ARGS_INIT(1, argv1);
	struct fuse_session *se;

	se = fuse_session_new(NULL, &full_ops, sizeof(full_ops), NULL);
	printf("session_new NULL args: %s\n", se ? "session" : "NULL");
	/* NULL ops with a full size: libfuse would memcpy from NULL */
	se = fuse_session_new(&args, NULL, sizeof(full_ops), NULL);
	printf("session_new NULL ops full size: %s\n", se ? "session" : "NULL");
	if (se) {
		printf("  mount NULL: %d\n", fuse_session_mount(se, NULL));
		fuse_session_destroy(se);
	}
	fuse_opt_free_args(&args);
	printf("session_fd NULL: %d\n", fuse_session_fd(NULL));
	printf("session_exited NULL: %d\n", fuse_session_exited(NULL));
	fuse_session_exit(NULL);
	printf("session_exit NULL: survived\n");
	fuse_session_destroy(NULL);
	printf("session_destroy NULL: survived\n");
	printf("session_mount NULL session: %d\n", fuse_session_mount(NULL, "/nonexistent"));
	printf("session_loop NULL: %d\n", fuse_session_loop(NULL));
	printf("reply_err NULL: %d\n", fuse_reply_err(NULL, 0));
	printf("reply_err 0x1234: %d\n", fuse_reply_err((fuse_req_t)0x1234, 0));
	printf("reply_buf 0x1234: %d\n", fuse_reply_buf((fuse_req_t)0x1234, "x", 1));
	fuse_reply_none((fuse_req_t)0x1234);
	printf("reply_none 0x1234: survived\n");
	printf("req_ctx 0x1234: %s\n", fuse_req_ctx((fuse_req_t)0x1234) ? "pointer" : "NULL");
	printf("req_interrupted 0x1234: %d\n", fuse_req_interrupted((fuse_req_t)0x1234));
	printf("req_userdata NULL: %s\n", fuse_req_userdata(NULL) ? "pointer" : "NULL");
	fflush(stdout);
}

int main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s common|ours\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
#ifdef VERSIONED
	if (strcmp(argv[1], "versioned") == 0) {
		versioned();
		return 0;
	}
#endif
	if (strcmp(argv[1], "common") == 0)
		common();
	else if (strcmp(argv[1], "ours") == 0)
		ours_only();
	else
		return 2;
	printf("done\n");
	return 0;
}
