/* A CUSE device session driven over a socketpair, for tests/cuse.rs.
 *
 * This kernel has no CUSE, so the parent plays the kernel's part: it sends the requests the
 * kernel's cuse driver would send (CUSE_INIT, then open, write, read, ioctl, ...) and prints
 * what the library answers. The child is an ordinary CUSE program whose session reads the
 * socket it was given as /dev/fd/N. Built against Debian's headers or ours; the output must
 * be the same on libfuse and on ferrofuse.
 *
 *   cuse_session session [mt] [-d]
 *                             the handshake and a device's life, as above (mt: in the
 *                             multithreaded loop; -d: the session's debug output)
 *   cuse_session bad ...      cuse_lowlevel_new with bad device descriptions
 *   cuse_session setup ARGS   cuse_lowlevel_setup with ARGS (no /dev/cuse here: it fails)
 *   cuse_session main ARGS    cuse_lowlevel_main with ARGS; exits with what it returns
 */
#define FUSE_USE_VERSION 31
#include <cuse_lowlevel.h>
#include <fuse_lowlevel.h>

#include <errno.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* The device's callbacks report on stderr (with the library's own messages), the kernel's
 * part on stdout: each stream's order is then fixed, whatever the two processes' timing. */
#define say(...) fprintf(stderr, __VA_ARGS__)

static struct fuse_session *the_session;
static char stored[64];
static size_t stored_len;

static void dev_init(void *userdata, struct fuse_conn_info *conn)
{
	say("init: userdata %s, proto %u.%u, max_write %u\n", (const char *)userdata,
	    conn->proto_major, conn->proto_minor, conn->max_write);
	conn->max_write = 65536;
}

static void dev_init_done(void *userdata)
{
	say("init_done: userdata %s\n", (const char *)userdata);
}

static void dev_destroy(void *userdata)
{
	say("destroy: userdata %s\n", (const char *)userdata);
}

static void dev_open(fuse_req_t req, struct fuse_file_info *fi)
{
	say("open: flags 0%o\n", fi->flags & 3);
	fi->fh = 42;
	fi->nonseekable = 1;
	fuse_reply_open(req, fi);
}

static void dev_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	say("read: size %zu off %lld fh %llu\n", size, (long long)off,
	       (unsigned long long)fi->fh);
	if (size > stored_len)
		size = stored_len;
	fuse_reply_buf(req, stored, size);
}

static void dev_write(fuse_req_t req, const char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	say("write: %zu bytes \"%.*s\" off %lld fh %llu\n", size, (int)size, buf,
	       (long long)off, (unsigned long long)fi->fh);
	if (size > sizeof(stored))
		size = sizeof(stored);
	memcpy(stored, buf, size);
	stored_len = size;
	fuse_reply_write(req, size);
}

static void dev_flush(fuse_req_t req, struct fuse_file_info *fi)
{
	say("flush: fh %llu\n", (unsigned long long)fi->fh);
	fuse_reply_err(req, 0);
}

static void dev_release(fuse_req_t req, struct fuse_file_info *fi)
{
	say("release: fh %llu\n", (unsigned long long)fi->fh);
	fuse_reply_err(req, 0);
	fuse_session_exit(the_session);
}

static void dev_ioctl(fuse_req_t req, int cmd, void *arg, struct fuse_file_info *fi,
		      unsigned flags, const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	uint32_t v = 0;
	(void)arg;
	say("ioctl: cmd 0x%x flags 0x%x in %zu out %zu fh %llu\n", (unsigned)cmd, flags,
	       in_bufsz, out_bufsz, (unsigned long long)fi->fh);
	if (in_bufsz == sizeof(v))
		memcpy(&v, in_buf, sizeof(v));
	v += 1;
	fuse_reply_ioctl(req, 7, &v, sizeof(v));
}

static const struct cuse_lowlevel_ops ops = {
	.init = dev_init,
	.init_done = dev_init_done,
	.destroy = dev_destroy,
	.open = dev_open,
	.read = dev_read,
	.write = dev_write,
	.flush = dev_flush,
	.release = dev_release,
	.ioctl = dev_ioctl,
};

static const char *info_argv[] = { "DEVNAME=ferrofuse-test", "EXTRA=1" };

/* ------------------------------------------------------------------ the kernel's part */

static int sock;
static uint64_t next_unique = 1;

static void send_req(uint32_t opcode, uint64_t nodeid, const void *arg, size_t arglen,
		     const void *data, size_t datalen)
{
	struct fuse_in_header h;
	struct iovec iov[3];
	memset(&h, 0, sizeof(h));
	h.len = sizeof(h) + arglen + datalen;
	h.opcode = opcode;
	h.unique = next_unique++;
	h.nodeid = nodeid;
	h.uid = getuid();
	h.gid = getgid();
	h.pid = getpid();
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)arg;
	iov[1].iov_len = arglen;
	iov[2].iov_base = (void *)data;
	iov[2].iov_len = datalen;
	if (writev(sock, iov, 3) != (ssize_t)h.len) {
		perror("writev");
		exit(2);
	}
}

/* Reads one reply; returns its payload length, prints the header. */
static ssize_t recv_reply(const char *what, char *payload, size_t max)
{
	char buf[8192];
	struct fuse_out_header *o = (struct fuse_out_header *)buf;
	ssize_t n = read(sock, buf, sizeof(buf));
	if (n < (ssize_t)sizeof(*o)) {
		printf("%s: no reply (read %zd)\n", what, n);
		exit(2);
	}
	if (o->len != (uint32_t)n)
		printf("%s: header says %u bytes, read %zd\n", what, o->len, n);
	printf("%s reply: unique %llu error %d (%s) payload %zd\n", what,
	       (unsigned long long)o->unique, o->error, o->error ? strerror(-o->error) : "ok",
	       n - (ssize_t)sizeof(*o));
	n -= sizeof(*o);
	if ((size_t)n > max)
		n = max;
	memcpy(payload, buf + sizeof(*o), n);
	return n;
}

static int kernel(void)
{
	char p[8192];
	ssize_t n;

	/* Anything before CUSE_INIT is refused. */
	struct fuse_open_in oi = { .flags = 2 };
	send_req(FUSE_OPEN, 0, &oi, sizeof(oi), NULL, 0);
	recv_reply("open before init", p, sizeof(p));

	struct cuse_init_in ci = { .major = 7, .minor = 38, .flags = CUSE_UNRESTRICTED_IOCTL };
	send_req(CUSE_INIT, 0, &ci, sizeof(ci), NULL, 0);
	n = recv_reply("cuse_init", p, sizeof(p));
	if (n >= (ssize_t)sizeof(struct cuse_init_out)) {
		struct cuse_init_out *co = (struct cuse_init_out *)p;
		/* The minor is the library's protocol level: not compared. */
		printf("  major %u flags 0x%x max_read %u max_write %u dev %u:%u\n", co->major,
		       co->flags, co->max_read, co->max_write, co->dev_major, co->dev_minor);
		for (char *s = p + sizeof(*co); s < p + n; s += strlen(s) + 1)
			printf("  info \"%s\"\n", s);
		if (n > 0 && p[n - 1] != 0)
			printf("  info not NUL-terminated\n");
	}

	send_req(FUSE_OPEN, 0, &oi, sizeof(oi), NULL, 0);
	n = recv_reply("open", p, sizeof(p));
	if (n == sizeof(struct fuse_open_out)) {
		struct fuse_open_out *oo = (struct fuse_open_out *)p;
		printf("  fh %llu open_flags 0x%x\n", (unsigned long long)oo->fh,
		       oo->open_flags & FOPEN_NONSEEKABLE);
	}

	struct fuse_write_in wi = { .fh = 42, .offset = 0, .size = 5 };
	send_req(FUSE_WRITE, 0, &wi, sizeof(wi), "hello", 5);
	n = recv_reply("write", p, sizeof(p));
	if (n == sizeof(struct fuse_write_out))
		printf("  size %u\n", ((struct fuse_write_out *)p)->size);

	struct fuse_read_in ri = { .fh = 42, .offset = 0, .size = 100 };
	send_req(FUSE_READ, 0, &ri, sizeof(ri), NULL, 0);
	n = recv_reply("read", p, sizeof(p));
	printf("  data \"%.*s\"\n", (int)n, p);

	uint32_t v = 41;
	struct fuse_ioctl_in ii = { .fh = 42, .flags = FUSE_IOCTL_UNRESTRICTED, .cmd = 0xc0045801,
				    .in_size = sizeof(v), .out_size = sizeof(v) };
	send_req(FUSE_IOCTL, 0, &ii, sizeof(ii), &v, sizeof(v));
	n = recv_reply("ioctl", p, sizeof(p));
	if (n == sizeof(struct fuse_ioctl_out) + sizeof(v)) {
		struct fuse_ioctl_out *io = (struct fuse_ioctl_out *)p;
		memcpy(&v, p + sizeof(*io), sizeof(v));
		printf("  result %d flags 0x%x value %u\n", io->result, io->flags, v);
	}

	struct fuse_fsync_in fi = { .fh = 42 };
	send_req(FUSE_FSYNC, 0, &fi, sizeof(fi), NULL, 0);
	recv_reply("fsync (no callback)", p, sizeof(p));

	struct fuse_poll_in pi = { .fh = 42 };
	send_req(FUSE_POLL, 0, &pi, sizeof(pi), NULL, 0);
	recv_reply("poll (no callback)", p, sizeof(p));

	send_req(CUSE_INIT, 0, &ci, sizeof(ci), NULL, 0);
	recv_reply("second cuse_init", p, sizeof(p));

	struct fuse_flush_in fl = { .fh = 42 };
	send_req(FUSE_FLUSH, 0, &fl, sizeof(fl), NULL, 0);
	recv_reply("flush", p, sizeof(p));

	struct fuse_release_in rl = { .fh = 42 };
	send_req(FUSE_RELEASE, 0, &rl, sizeof(rl), NULL, 0);
	recv_reply("release", p, sizeof(p));
	return 0;
}

static int session_mode(int mt, int debug)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1) {
		perror("socketpair");
		return 2;
	}
	pid_t pid = fork();
	if (pid == -1) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		char *argv[] = { "cuse_session", "-d", NULL };
		struct fuse_args args = FUSE_ARGS_INIT(debug ? 2 : 1, argv);
		struct cuse_info ci = { .dev_major = 0, .dev_minor = 0, .dev_info_argc = 2,
					.dev_info_argv = info_argv,
					.flags = CUSE_UNRESTRICTED_IOCTL };
		char fdname[32];
		close(sv[0]);
		the_session = cuse_lowlevel_new(&args, &ci, &ops, "ud");
		if (!the_session) {
			say("cuse_lowlevel_new failed\n");
			_exit(3);
		}
		snprintf(fdname, sizeof(fdname), "/dev/fd/%d", sv[1]);
		if (fuse_session_mount(the_session, fdname) != 0) {
			say("fuse_session_mount failed\n");
			_exit(3);
		}
		int res = mt ? fuse_session_loop_mt(the_session, 0) : fuse_session_loop(the_session);
		say("loop returned %d\n", res);
		fuse_session_destroy(the_session);
		_exit(0);
	}
	close(sv[1]);
	sock = sv[0];
	alarm(20);
	kernel();
	int st;
	waitpid(pid, &st, 0);
	printf("device process: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

static int bad_mode(void)
{
	char *argv[] = { "cuse_session", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	static char big[5000];
	const char *big_argv[] = { big };
	memset(big, 'x', sizeof(big) - 1);
	struct cuse_info ci = { .dev_info_argc = 1, .dev_info_argv = big_argv };
	struct fuse_session *se = cuse_lowlevel_new(&args, &ci, &ops, NULL);
	printf("dev_info of %zu bytes: %s\n", sizeof(big), se ? "session" : "NULL");
	if (se)
		fuse_session_destroy(se);

	/* Exactly at the kernel's limit (4096 with the NUL) is accepted. */
	big[4095] = 0;
	args = (struct fuse_args)FUSE_ARGS_INIT(1, argv);
	se = cuse_lowlevel_new(&args, &ci, &ops, NULL);
	printf("dev_info of 4096 bytes: %s\n", se ? "session" : "NULL");
	if (se)
		fuse_session_destroy(se);

	/* An unknown option is refused by the session's parser. */
	char *argv2[] = { "cuse_session", "-o", "no_such_option", NULL };
	struct fuse_args args2 = FUSE_ARGS_INIT(3, argv2);
	struct cuse_info ok = { .dev_info_argc = 1, .dev_info_argv = info_argv };
	se = cuse_lowlevel_new(&args2, &ok, &ops, NULL);
	printf("unknown option: %s\n", se ? "session" : "NULL");
	if (se)
		fuse_session_destroy(se);
	return 0;
}

int main(int argc, char *argv[])
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc >= 2 && strcmp(argv[1], "session") == 0)
		return session_mode(argc >= 3 && strcmp(argv[2], "mt") == 0,
				    argc >= 3 && strcmp(argv[argc - 1], "-d") == 0);
	if (argc >= 2 && strcmp(argv[1], "bad") == 0)
		return bad_mode();
	struct cuse_info ci = { .dev_info_argc = 2, .dev_info_argv = info_argv };
	if (argc >= 2 && strcmp(argv[1], "setup") == 0) {
		int mt = -1;
		argv[1] = argv[0];
		struct fuse_session *se = cuse_lowlevel_setup(argc - 1, argv + 1, &ci, &ops, &mt, NULL);
		printf("cuse_lowlevel_setup: %s\n", se ? "session" : "NULL");
		if (se)
			cuse_lowlevel_teardown(se);
		return se ? 0 : 1;
	}
	if (argc >= 2 && strcmp(argv[1], "main") == 0) {
		argv[1] = argv[0];
		int res = cuse_lowlevel_main(argc - 1, argv + 1, &ci, &ops, NULL);
		printf("cuse_lowlevel_main: %d\n", res);
		return res;
	}
	fprintf(stderr, "usage: %s session|bad|setup ARGS|main ARGS\n", argv[0]);
	return 2;
}
