/*
 * optinfo: parses a command line the way a FUSE filesystem does and prints what it understood.
 * Uses only fuse_opt and fuse_parse_cmdline, so it runs without mounting anything.
 *
 *   optinfo [-d] [-f] [-s] [-o opt,...] [--name=NAME] [--size=N] MOUNTPOINT
 */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 19)

#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct options {
	char *name;
	unsigned int size;
	int verbose;
};

#define OPTION(t, p) { t, offsetof(struct options, p), 1 }

static const struct fuse_opt option_spec[] = {
	{ "--name=%s", offsetof(struct options, name), 0 },
	{ "--size=%u", offsetof(struct options, size), 0 },
	OPTION("-v", verbose),
	OPTION("--verbose", verbose),
	FUSE_OPT_END
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	struct options o = { NULL, 0, 0 };
	int i;

	if (fuse_opt_parse(&args, &o, option_spec, NULL) == -1)
		return 1;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (opts.show_help) {
		printf("usage: %s [options] <mountpoint>\n\n", argv[0]);
		printf("    --name=NAME   a name\n    --size=N      a size\n\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		free(opts.mountpoint);
		fuse_opt_free_args(&args);
		return 0;
	}
	if (opts.show_version) {
		printf("FUSE library version %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		free(opts.mountpoint);
		fuse_opt_free_args(&args);
		return 0;
	}

	printf("library: %s (API %d)\n", fuse_pkgversion(), fuse_version());
	printf("mountpoint: %s\n", opts.mountpoint ? opts.mountpoint : "(none)");
	printf("foreground=%d debug=%d singlethread=%d clone_fd=%d max_threads=%u\n",
	       opts.foreground, opts.debug, opts.singlethread, opts.clone_fd, opts.max_threads);
	printf("name=%s size=%u verbose=%d\n", o.name ? o.name : "(unset)", o.size, o.verbose);
	printf("remaining arguments for the session:");
	for (i = 0; i < args.argc; i++)
		printf(" [%s]", args.argv[i]);
	printf("\n");

	free(o.name);
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return 0;
}
