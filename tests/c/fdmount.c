/*
 * fdmount MOUNTPOINT PROGRAM [ARGS...]
 *
 * Does the mount a privileged parent does for a daemon that is handed /dev/fuse: opens
 * /dev/fuse (without close-on-exec), mounts it on MOUNTPOINT as fuse.fdtest with fd=N, then
 * execs PROGRAM ARGS... /dev/fd/N. The daemon never mounts anything itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	char opts[128], fdpath[32];
	char **args;
	int fd, i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s MOUNTPOINT PROGRAM [ARGS...]\n", argv[0]);
		return 2;
	}
	fd = open("/dev/fuse", O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "fdmount: open /dev/fuse: %s\n", strerror(errno));
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("fdtest", argv[1], "fuse.fdtest", MS_NOSUID | MS_NODEV, opts) != 0) {
		fprintf(stderr, "fdmount: mount %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	args = calloc(argc, sizeof(char *));
	if (args == NULL)
		return 1;
	for (i = 2; i < argc; i++)
		args[i - 2] = argv[i];
	args[argc - 2] = fdpath;
	args[argc - 1] = NULL;
	execv(args[0], args);
	fprintf(stderr, "fdmount: exec %s: %s\n", args[0], strerror(errno));
	umount2(argv[1], MNT_DETACH);
	return 1;
}
