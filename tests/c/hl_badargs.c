/*
 * Calls the high-level API with NULL, empty and bad arguments, without mounting, and prints one
 * line per call with what came back.
 *
 *   hl_badargs common   calls libfuse survives: the test compares Debian's output with ours
 *   hl_badargs ours     calls on which libfuse dereferences NULL: only run on ferrofuse, which
 *                       must refuse them with an error
 */
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int some_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	memset(st, 0, sizeof(*st));
	return 0;
}

static const struct fuse_operations some_ops = { .getattr = some_getattr };

static void common(void)
{
	char prog[] = "hl_badargs", bogus[] = "-obogus_option", help[] = "--help";
	char *argv1[] = { prog, bogus, NULL };
	struct fuse_args a1 = FUSE_ARGS_INIT(2, argv1);
	struct fuse *f = fuse_new(&a1, &some_ops, sizeof(some_ops), NULL);
	printf("fuse_new(unknown option) = %s\n", f ? "a fuse" : "NULL");

	char *argv2[] = { prog, NULL };
	struct fuse_args a2 = FUSE_ARGS_INIT(1, argv2);
	f = fuse_new(&a2, &some_ops, sizeof(some_ops), NULL);
	printf("fuse_new(no options) = %s\n", f ? "a fuse" : "NULL");
	printf("fuse_get_session = %s\n", fuse_get_session(f) ? "a session" : "NULL");
	fuse_exit(f);
	fuse_destroy(f);

	struct fuse_context *c = fuse_get_context();
	printf("fuse_get_context outside a request: %s, uid %u, pid %d, fuse %s\n",
	       c ? "a context" : "NULL", c ? (unsigned)c->uid : 0, c ? (int)c->pid : 0,
	       c && c->fuse ? "set" : "NULL");
	printf("fuse_interrupted outside a request = %d\n", fuse_interrupted());

	/* Connection options out of the command line, applied to a connection's wants. */
	char o[] = "-o", list[] = "max_write=4096,no_remote_lock,readdirplus=no,fsname=x";
	char *argv5[] = { prog, o, list, NULL };
	struct fuse_args a5 = FUSE_ARGS_INIT(3, argv5);
	struct fuse_conn_info_opts *co = fuse_parse_conn_info_opts(&a5);
	printf("fuse_parse_conn_info_opts = %s, args left:", co ? "opts" : "NULL");
	for (int i = 0; i < a5.argc; i++)
		printf(" %s", a5.argv[i]);
	printf("\n");
	struct fuse_conn_info conn;
	memset(&conn, 0, sizeof(conn));
	conn.capable = FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS | FUSE_CAP_READDIRPLUS;
	conn.want = conn.capable;
	if (co)
		fuse_apply_conn_info_opts(co, &conn);
	printf("applied: max_write %u, posix locks %d, flock %d, readdirplus %d\n", conn.max_write,
	       !!(conn.want & FUSE_CAP_POSIX_LOCKS), !!(conn.want & FUSE_CAP_FLOCK_LOCKS),
	       !!(conn.want & FUSE_CAP_READDIRPLUS));
	free(co);
	fuse_opt_free_args(&a5);
	char bad[] = "-omax_write=lots";
	char *argv6[] = { prog, bad, NULL };
	struct fuse_args a6 = FUSE_ARGS_INIT(2, argv6);
	co = fuse_parse_conn_info_opts(&a6);
	printf("fuse_parse_conn_info_opts(max_write=lots) = %s\n", co ? "opts" : "NULL");
	free(co);
	fuse_opt_free_args(&a6);

	char *argv3[] = { prog, help, NULL };
	int rc = fuse_main(2, argv3, &some_ops, NULL);
	printf("fuse_main(--help) = %d\n", rc);
	char *argv4[] = { prog, NULL };
	rc = fuse_main(1, argv4, &some_ops, NULL);
	printf("fuse_main(no mountpoint) = %d\n", rc);
	fflush(stdout);
}

static void ours(void)
{
	char prog[] = "hl_badargs";
	char *argv1[] = { prog, NULL };
	struct fuse_args a1 = FUSE_ARGS_INIT(1, argv1);
	struct stat st;

	printf("fuse_new(NULL args) = %s\n",
	       fuse_new(NULL, &some_ops, sizeof(some_ops), NULL) ? "a fuse" : "NULL");
	printf("fuse_new(NULL ops) = %s\n", fuse_new(&a1, NULL, 0, NULL) ? "a fuse" : "NULL");
	printf("fuse_mount(NULL) = %d\n", fuse_mount(NULL, "/tmp"));
	printf("fuse_loop(NULL) = %d\n", fuse_loop(NULL));
	printf("fuse_loop_mt(NULL) = %d\n", fuse_loop_mt(NULL, 0));
	printf("fuse_invalidate_path(NULL) = %d\n", fuse_invalidate_path(NULL, "/x"));
	printf("fuse_fs_getattr(NULL fs) = %d\n", fuse_fs_getattr(NULL, "/", &st, NULL));
	printf("fuse_fs_new(NULL ops) = %s\n", fuse_fs_new(NULL, 0, NULL) ? "a fs" : "NULL");
	printf("fuse_notify_poll(NULL) = %d\n", fuse_notify_poll(NULL));
	printf("fuse_start_cleanup_thread(NULL) = %d\n", fuse_start_cleanup_thread(NULL));
	printf("fuse_clean_cache(NULL) = %d\n", fuse_clean_cache(NULL));
	printf("fuse_getgroups outside a request = %d\n", fuse_getgroups(0, NULL));
	fuse_exit(NULL);
	fuse_destroy(NULL);
	fuse_unmount(NULL);
	fuse_stop_cleanup_thread(NULL);
	printf("fuse_main(0, NULL) = %d\n", fuse_main(0, NULL, &some_ops, NULL));

	struct fuse_fs *fs = fuse_fs_new(&some_ops, sizeof(some_ops), NULL);
	printf("fuse_fs_getattr(\"/\") = %d\n", fuse_fs_getattr(fs, "/", &st, NULL));
	printf("fuse_fs_unlink (no op) = %d\n", fuse_fs_unlink(fs, "/x"));
	struct statvfs sv;
	memset(&sv, 0, sizeof(sv));
	int res = fuse_fs_statfs(fs, "/", &sv);
	printf("fuse_fs_statfs (default) = %d, bsize %lu, namemax %lu\n", res, sv.f_bsize,
	       sv.f_namemax);
	fuse_fs_destroy(fs);
	fflush(stdout);
}

int main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "common") == 0)
		common();
	else if (argc == 2 && strcmp(argv[1], "ours") == 0)
		ours();
	else
		return 2;
	return 0;
}
