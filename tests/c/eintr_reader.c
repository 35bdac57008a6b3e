/*
 * A reader for tests/ll_interrupts.rs: opens FILE, creates READY (so the test knows the read
 * is about to start), then read()s FILE with a SIGUSR1 handler installed without SA_RESTART.
 * Prints one line, `read=<n> errno=<name>`, and exits 0; exits 2 on a setup failure.
 * Usage: eintr_reader FILE READY
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_usr1(int sig)
{
	(void)sig;
}

int main(int argc, char *argv[])
{
	struct sigaction sa;
	char buf[64];
	ssize_t n;
	int fd, ready, err;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE READY\n", argv[0]);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: an interrupted call returns EINTR to us */
	if (sigaction(SIGUSR1, &sa, NULL) != 0) {
		perror("sigaction");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror("open");
		return 2;
	}
	ready = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (ready < 0) {
		perror("create READY");
		return 2;
	}
	close(ready);
	n = read(fd, buf, sizeof(buf));
	err = errno;
	printf("read=%zd errno=%s\n", n, n < 0 ? (err == EINTR ? "EINTR" : strerror(err)) : "0");
	close(fd);
	return 0;
}
