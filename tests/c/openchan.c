/*
 * fuse_open_channel(MOUNTPOINT, OPTIONS): mount as libfuse's mount.fuse3 does, print whether a
 * device descriptor came back, and exit (the mount stays until the caller unmounts it).
 * The call is declared in libfuse's <fuse.h>; this program needs only the symbol.
 */
#include <stdio.h>
#include <unistd.h>

int fuse_open_channel(const char *mountpoint, const char *options);

int main(int argc, char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s MOUNTPOINT OPTIONS\n", argv[0]);
		return 2;
	}
	int fd = fuse_open_channel(argv[1], argv[2]);
	printf("fd %s\n", fd >= 0 ? "valid" : "invalid");
	return fd >= 0 ? 0 : 1;
}
