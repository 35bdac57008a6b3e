/*
 * Calls every function ferrofuse exports with NULL, out-of-range or made-up arguments, where
 * the C API lets a caller pass them (NULL sessions, requests, buffers, vectors and option
 * lists; handles that are not requests; counts and positions out of range), and prints one
 * line per call: the function, the arguments in words, and what came back. tests/exports.rs
 * compares the output with the documented results and checks every export is called.
 *
 * Built against ferrofuse's headers at FUSE_USE_VERSION 319; the older entry points that the
 * headers hide behind macros or inline wrappers are reached with dlsym/dlvsym.
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 319
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <cuse_lowlevel.h>
#include <fuse_daemonize.h>
#include <fuse_service.h>
#include <fuse_log.h>
#include <fuse_opt.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#define GARBAGE ((fuse_req_t)0x1234)
#define INT(call) printf("%s: %d\n", #call, (int)(call))
#define LONG(call) printf("%s: %ld\n", #call, (long)(call))
#define PTR(call) printf("%s: %s\n", #call, (call) ? "pointer" : "NULL")
#define VOID(call) ((call), printf("%s: survived\n", #call))

static void *sym(const char *name, const char *version)
{
	void *p = version ? dlvsym(RTLD_DEFAULT, name, version) : dlsym(RTLD_DEFAULT, name);

	if (p == NULL) {
		printf("missing symbol %s@%s\n", name, version ? version : "default");
		exit(3);
	}
	return p;
}

static void opts_and_args(void)
{
	static const struct fuse_opt table[] = { FUSE_OPT_KEY("x", 1), FUSE_OPT_END };
	char prog[] = "prog";
	char *argv[] = { prog, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_cmdline_opts o;
	char *list = NULL;
	int (*parse_default)(struct fuse_args *, struct fuse_cmdline_opts *) =
		sym("fuse_parse_cmdline", NULL);
	int (*parse_312)(struct fuse_args *, struct fuse_cmdline_opts *) =
		sym("fuse_parse_cmdline_312", NULL);

	INT(fuse_opt_parse(NULL, NULL, NULL, NULL));
	INT(fuse_opt_parse(NULL, NULL, table, NULL));
	INT(fuse_opt_add_opt(NULL, "a"));
	INT(fuse_opt_add_opt(&list, NULL));
	INT(fuse_opt_add_opt_escaped(NULL, "a"));
	INT(fuse_opt_add_opt_escaped(&list, NULL));
	printf("list after NULL options: %s\n", list ? list : "(null)");
	free(list);
	INT(fuse_opt_add_arg(NULL, "a"));
	INT(fuse_opt_add_arg(&args, NULL));
	INT(fuse_opt_insert_arg(NULL, 0, "a"));
	INT(fuse_opt_insert_arg(&args, 5, "a"));
	INT(fuse_opt_insert_arg(&args, -1, "a"));
	INT(fuse_opt_insert_arg(&args, 0, NULL));
	printf("argc after refused calls: %d\n", args.argc);
	VOID(fuse_opt_free_args(NULL));
	INT(fuse_opt_match(NULL, "x"));
	INT(fuse_opt_match(table, NULL));
	INT(fuse_parse_cmdline(NULL, &o));
	INT(fuse_parse_cmdline(&args, NULL));
	INT(parse_default(NULL, &o));
	INT(parse_312(&args, NULL));
	INT(fuse_parse_cmdline_30(NULL, &o));
	INT(fuse_parse_cmdline_30(&args, NULL));
	fuse_opt_free_args(&args);
}

static void session_calls(void)
{
	static const struct fuse_lowlevel_ops ops;
	struct libfuse_version v = { 3, 19, 0, 0 };
	struct fuse_session *(*new30)(struct fuse_args *, const struct fuse_lowlevel_ops *, size_t,
				      void *) = sym("fuse_session_new", "FUSE_3.0");
	int (*custom_io_default)(struct fuse_session *, const struct fuse_custom_io *, size_t, int) =
		sym("fuse_session_custom_io", NULL);
	int (*loop_mt_default)(struct fuse_session *, struct fuse_loop_config *) =
		sym("fuse_session_loop_mt", NULL);
	int (*loop_mt_30)(struct fuse_session *, int) = sym("fuse_session_loop_mt", "FUSE_3.0");
	int (*custom_io_30)(struct fuse_session *, const struct fuse_custom_io *, int) =
		sym("fuse_session_custom_io_30", NULL);
	int (*loop_mt_312)(struct fuse_session *, struct fuse_loop_config *) =
		sym("fuse_session_loop_mt_312", NULL);
	int (*loop_mt_32)(struct fuse_session *, void *) = sym("fuse_session_loop_mt_32", NULL);
	int (*loop_mt_31)(struct fuse_session *, int) = sym("fuse_session_loop_mt_31", NULL);

	PTR(new30(NULL, &ops, sizeof(ops), NULL));
	PTR(fuse_session_new_versioned(NULL, &ops, sizeof(ops), &v, NULL));
	PTR(fuse_session_new_versioned(NULL, &ops, sizeof(ops), NULL, NULL));
	INT(fuse_session_custom_io_317(NULL, NULL, 0, 3));
	INT(custom_io_30(NULL, NULL, 3));
	INT(custom_io_default(NULL, NULL, 0, -1));
	INT(fuse_session_mount(NULL, "/nonexistent"));
	VOID(fuse_session_unmount(NULL));
	INT(fuse_session_fd(NULL));
	VOID(fuse_session_exit(NULL));
	VOID(fuse_session_reset(NULL));
	INT(fuse_session_exited(NULL));
	VOID(fuse_session_set_debug(NULL));
	PTR(fuse_session_start_teardown_watchdog(NULL, 5, NULL, NULL));
	VOID(fuse_session_stop_teardown_watchdog(NULL));
	VOID(fuse_session_stop_teardown_watchdog((void *)GARBAGE));
	INT(fuse_session_loop(NULL));
	INT(loop_mt_312(NULL, NULL));
	INT(loop_mt_32(NULL, NULL));
	INT(loop_mt_31(NULL, 0));
	INT(loop_mt_default(NULL, NULL));
	INT(loop_mt_30(NULL, 0));
	INT(fuse_session_receive_buf(NULL, NULL));
	VOID(fuse_session_process_buf(NULL, NULL));
	VOID(fuse_session_destroy(NULL));
	VOID(fuse_session_set_sync_init(NULL, true));
	INT(fuse_conn_is_sync_init(NULL));
	INT(fuse_set_signal_handlers(NULL));
	INT(fuse_set_fail_signal_handlers(NULL));
	VOID(fuse_remove_signal_handlers(NULL));
	INT(fuse_open_channel(NULL, "rw"));
	INT(fuse_open_channel("/nonexistent/mnt", NULL));
}

/* A session that is not mounted has no connection to watch; a timeout must be positive. */
static void watchdog_calls(void)
{
	static const struct fuse_lowlevel_ops ops;
	char prog[] = "prog";
	char *argv[] = { prog, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof(ops), NULL);

	PTR(se);
	PTR(fuse_session_start_teardown_watchdog(se, 5, NULL, NULL));
	PTR(fuse_session_start_teardown_watchdog(se, 0, NULL, NULL));
	PTR(fuse_session_start_teardown_watchdog(se, -1, NULL, NULL));
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
}

/* No mount service: none is accepted, and what needs one says EOPNOTSUPP. */
static void service_calls(void)
{
	typedef int (*service_main_t)(void *, void *, void *, size_t, void *, void *);
	struct fuse_service *sf = (struct fuse_service *)GARBAGE;
	int fd = 7;

	INT(fuse_service_accept(NULL));
	INT(fuse_service_accept(&sf));
	PTR(sf);
	INT(fuse_service_can_allow_other(NULL));
	INT(fuse_service_can_fuseblk(NULL));
	VOID(fuse_service_release(NULL));
	VOID(fuse_service_destroy(NULL));
	sf = (struct fuse_service *)GARBAGE;
	VOID(fuse_service_destroy(&sf));
	PTR(sf);
	INT(fuse_service_append_args(NULL, NULL));
	PTR(fuse_service_cmdline(0, NULL, NULL));
	INT(fuse_service_parse_cmdline_opts(NULL, NULL));
	INT(fuse_service_request_file(NULL, NULL, 0, 0, 0));
	INT(fuse_service_request_blockdev(NULL, NULL, 0, 0, 0, 0));
	INT(fuse_service_receive_file(NULL, "x", &fd));
	INT(fd);
	INT(fuse_service_receive_file(NULL, NULL, NULL));
	INT(fuse_service_finish_file_requests(NULL));
	VOID(fuse_service_expect_mount_format(NULL, S_IFREG));
	INT(fuse_service_session_mount(NULL, NULL, S_IFDIR, NULL));
	INT(fuse_service_send_goodbye(NULL, 0));
	INT(fuse_service_exit(3));
	INT(((service_main_t)sym("fuse_service_main_real_versioned", NULL))(NULL, NULL, NULL, 0,
									  NULL, NULL));
}

static void notify_calls(void)
{
	fuse_ino_t ids[2] = { 1, 2 };

	INT(fuse_lowlevel_notify_poll(NULL));
	INT(fuse_lowlevel_notify_inval_inode(NULL, 1, 0, 0));
	INT(fuse_lowlevel_notify_increment_epoch(NULL));
	INT(fuse_lowlevel_notify_inval_entry(NULL, 1, "x", 1));
	INT(fuse_lowlevel_notify_expire_entry(NULL, 1, "x", 1));
	INT(fuse_lowlevel_notify_delete(NULL, 1, 2, "x", 1));
	INT(fuse_lowlevel_notify_store(NULL, 1, 0, NULL, 0));
	INT(fuse_lowlevel_notify_retrieve(NULL, 1, 10, 0, NULL));
	INT(fuse_lowlevel_notify_prune(NULL, ids, 2));
	VOID(fuse_pollhandle_destroy(NULL));
}

static void reply_calls(void)
{
	struct fuse_entry_param e;
	struct fuse_file_info fi;
	struct stat st;
	struct statvfs sv;
	struct statx sx;
	struct flock fl;
	struct iovec iov = { "x", 1 };
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(1);
	fuse_req_t r;
	int i;

	memset(&e, 0, sizeof(e));
	memset(&fi, 0, sizeof(fi));
	memset(&st, 0, sizeof(st));
	memset(&sv, 0, sizeof(sv));
	memset(&sx, 0, sizeof(sx));
	memset(&fl, 0, sizeof(fl));
	bv.buf[0].mem = "x";
	for (i = 0; i < 2; i++) {
		r = i ? GARBAGE : NULL;
		printf("-- request %s\n", i ? "0x1234" : "NULL");
		INT(fuse_reply_err(r, ENOENT));
		VOID(fuse_reply_none(r));
		INT(fuse_reply_entry(r, &e));
		INT(fuse_reply_entry(r, NULL));
		INT(fuse_reply_create(r, &e, &fi));
		INT(fuse_reply_create(r, NULL, NULL));
		INT(fuse_reply_attr(r, &st, 1.0));
		INT(fuse_reply_attr(r, NULL, 1.0));
		INT(fuse_reply_readlink(r, "t"));
		INT(fuse_reply_readlink(r, NULL));
		INT(fuse_reply_open(r, &fi));
		INT(fuse_reply_open(r, NULL));
		INT(fuse_reply_write(r, 1));
		INT(fuse_reply_buf(r, "x", 1));
		INT(fuse_reply_buf(r, NULL, 100));
		INT(fuse_reply_data(r, &bv, 0));
		INT(fuse_reply_data(r, NULL, 0));
		INT(fuse_reply_iov(r, &iov, 1));
		INT(fuse_reply_iov(r, NULL, 5));
		INT(fuse_reply_iov(r, &iov, -1));
		INT(fuse_reply_statfs(r, &sv));
		INT(fuse_reply_statfs(r, NULL));
		INT(fuse_reply_xattr(r, 1));
		INT(fuse_reply_lock(r, &fl));
		INT(fuse_reply_lock(r, NULL));
		INT(fuse_reply_bmap(r, 1));
		INT(fuse_reply_ioctl_retry(r, NULL, 1, NULL, 1));
		INT(fuse_reply_ioctl(r, 0, NULL, 10));
		INT(fuse_reply_ioctl_iov(r, 0, NULL, 3));
		INT(fuse_reply_poll(r, 1));
		INT(fuse_reply_lseek(r, 1));
		INT(fuse_reply_statx(r, 0, &sx, 1.0));
		INT(fuse_reply_statx(r, 0, NULL, 1.0));
		PTR(fuse_req_userdata(r));
		PTR(fuse_req_ctx(r));
		INT(fuse_req_getgroups(r, 0, NULL));
		VOID(fuse_req_interrupt_func(r, NULL, NULL));
		INT(fuse_req_interrupted(r));
		INT(fuse_req_is_uring(r));
		INT(fuse_req_get_payload(r, NULL, NULL, NULL));
		INT(fuse_req_secctx_count(r));
		VOID(fuse_req_secctx_reset(r));
		INT(fuse_req_secctx_next(r, NULL, NULL, NULL));
		INT(fuse_passthrough_open(r, -1));
		INT(fuse_passthrough_close(r, 1));
		LONG(fuse_add_direntry(r, NULL, 0, NULL, NULL, 0));
		LONG(fuse_add_direntry_plus(r, NULL, 0, NULL, NULL, 0));
	}
}

static void common_calls(void)
{
	struct fuse_loop_config *cfg;

	VOID(fuse_loop_cfg_destroy(NULL));
	VOID(fuse_loop_cfg_set_idle_threads(NULL, 1));
	VOID(fuse_loop_cfg_set_max_threads(NULL, 1));
	VOID(fuse_loop_cfg_set_clone_fd(NULL, 1));
	VOID(fuse_loop_cfg_convert(NULL, NULL));
	cfg = fuse_loop_cfg_create();
	PTR(cfg);
	VOID(fuse_loop_cfg_convert(cfg, NULL));
	VOID(fuse_loop_cfg_set_max_threads(cfg, 0));
	fuse_loop_cfg_destroy(cfg);
	INT(fuse_set_feature_flag(NULL, FUSE_CAP_ASYNC_READ));
	VOID(fuse_unset_feature_flag(NULL, FUSE_CAP_ASYNC_READ));
	INT(fuse_get_feature_flag(NULL, FUSE_CAP_ASYNC_READ));
	INT(fuse_set_conn_flag(NULL, FUSE_CONN_FLAG_NO_INTERRUPT));
	INT(fuse_convert_to_conn_want_ext(NULL));
	LONG(fuse_buf_size(NULL));
	LONG(fuse_buf_copy(NULL, NULL, 0));
	VOID(fuse_set_log_func(NULL));
	VOID(fuse_log(FUSE_LOG_DEBUG, "%s", "a debug line nobody sees\n"));
	VOID(fuse_log_enable_syslog(NULL, 0, 0));
	VOID(fuse_log_close_syslog());
	INT(fuse_daemonize_early_is_active());
	VOID(fuse_daemonize_early_success());
	VOID(fuse_daemonize_early_fail(EIO));
	INT(fuse_version());
	PTR(fuse_pkgversion());
}

static void highlevel_calls(void)
{
	struct stat st;
	struct statvfs sv;
	struct timespec tv[2] = { { 0, 0 }, { 0, 0 } };
	struct fuse_conn_info conn;
	char buf[16];
	uint64_t idx = 0;
	unsigned int revents = 0;
	struct fuse_bufvec *bufp = NULL;
	typedef void *(*new5_t)(void *, void *, size_t, void *, void *);
	typedef int (*loop_t)(void *, void *);
	typedef int (*main6_t)(int, char **, void *, size_t, void *, void *);

	/* Every generation of fuse_new, reached by name and version as a caller of that
	 * generation would. */
	PTR(((new5_t)sym("fuse_new", "FUSE_3.0"))(NULL, NULL, 0, NULL, NULL));
	PTR(((new5_t)sym("fuse_new", "FUSE_3.1"))(NULL, NULL, 0, NULL, NULL));
	PTR(((new5_t)sym("fuse_new_30", NULL))(NULL, NULL, 0, NULL, NULL));
	PTR(((new5_t)sym("fuse_new_31", NULL))(NULL, NULL, 0, NULL, NULL));
	PTR(((new5_t)sym("_fuse_new", "FUSE_3.0"))(NULL, NULL, 0, NULL, NULL));
	PTR(((new5_t)sym("_fuse_new_30", NULL))(NULL, NULL, 0, NULL, NULL));
	PTR(((new5_t)sym("_fuse_new_31", NULL))(NULL, NULL, 0, NULL, NULL));
	INT(fuse_main_real(0, NULL, NULL, 0, NULL));
	INT(((main6_t)sym("fuse_main_real_versioned", NULL))(0, NULL, NULL, 0, NULL, NULL));
	INT(fuse_mount(NULL, "/nonexistent"));
	VOID(fuse_unmount(NULL));
	VOID(fuse_exit(NULL));
	VOID(fuse_destroy(NULL));
	INT(fuse_loop(NULL));
	INT(fuse_loop_mt(NULL, NULL));
	INT(((loop_t)sym("fuse_loop_mt_31", NULL))(NULL, NULL));
	INT(((loop_t)sym("fuse_loop_mt_32", NULL))(NULL, NULL));
	INT(((loop_t)sym("fuse_loop_mt_312", NULL))(NULL, NULL));
	PTR(fuse_get_session(NULL));
	PTR(fuse_get_context());
	INT(fuse_getgroups(0, NULL));
	INT(fuse_interrupted());
	INT(fuse_invalidate_path(NULL, "/x"));
	INT(fuse_notify_poll(NULL));
	INT(fuse_start_cleanup_thread(NULL));
	VOID(fuse_stop_cleanup_thread(NULL));
	INT(fuse_clean_cache(NULL));
	/* Prints the library options' help: keep it out of the compared output. */
	fflush(stdout);
	int saved = dup(1), null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	fuse_lib_help(NULL);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	printf("fuse_lib_help(NULL): survived\n");
	PTR(fuse_parse_conn_info_opts(NULL));
	memset(&conn, 0, sizeof(conn));
	VOID(fuse_apply_conn_info_opts(NULL, &conn));
	VOID(fuse_apply_conn_info_opts(NULL, NULL));
	PTR(fuse_fs_new(NULL, 0, NULL));
	/* Each fuse_fs_* call on no filesystem at all. */
	INT(fuse_fs_getattr(NULL, "/", &st, NULL));
	INT(fuse_fs_rename(NULL, "/a", "/b", 0));
	INT(fuse_fs_unlink(NULL, "/a"));
	INT(fuse_fs_rmdir(NULL, "/a"));
	INT(fuse_fs_symlink(NULL, "t", "/a"));
	INT(fuse_fs_link(NULL, "/a", "/b"));
	INT(fuse_fs_release(NULL, "/a", NULL));
	INT(fuse_fs_open(NULL, "/a", NULL));
	INT(fuse_fs_read(NULL, "/a", buf, sizeof(buf), 0, NULL));
	INT(fuse_fs_read_buf(NULL, "/a", &bufp, 1, 0, NULL));
	INT(fuse_fs_write(NULL, "/a", buf, sizeof(buf), 0, NULL));
	INT(fuse_fs_write_buf(NULL, "/a", NULL, 0, NULL));
	INT(fuse_fs_fsync(NULL, "/a", 0, NULL));
	INT(fuse_fs_flush(NULL, "/a", NULL));
	INT(fuse_fs_statfs(NULL, "/", &sv));
	INT(fuse_fs_opendir(NULL, "/", NULL));
	INT(fuse_fs_readdir(NULL, "/", NULL, NULL, 0, NULL, 0));
	INT(fuse_fs_fsyncdir(NULL, "/", 0, NULL));
	INT(fuse_fs_releasedir(NULL, "/", NULL));
	INT(fuse_fs_create(NULL, "/a", 0644, NULL));
	INT(fuse_fs_lock(NULL, "/a", NULL, 0, NULL));
	INT(fuse_fs_flock(NULL, "/a", NULL, 0));
	INT(fuse_fs_chmod(NULL, "/a", 0644, NULL));
	INT(fuse_fs_chown(NULL, "/a", 0, 0, NULL));
	INT(fuse_fs_truncate(NULL, "/a", 0, NULL));
	INT(fuse_fs_utimens(NULL, "/a", tv, NULL));
	INT(fuse_fs_access(NULL, "/a", 0));
	INT(fuse_fs_readlink(NULL, "/a", buf, sizeof(buf)));
	INT(fuse_fs_mknod(NULL, "/a", 0644, 0));
	INT(fuse_fs_mkdir(NULL, "/a", 0755));
	INT(fuse_fs_setxattr(NULL, "/a", "user.x", "v", 1, 0));
	INT(fuse_fs_getxattr(NULL, "/a", "user.x", buf, sizeof(buf)));
	INT(fuse_fs_listxattr(NULL, "/a", buf, sizeof(buf)));
	INT(fuse_fs_removexattr(NULL, "/a", "user.x"));
	INT(fuse_fs_bmap(NULL, "/a", 512, &idx));
	INT(fuse_fs_ioctl(NULL, "/a", 0, NULL, NULL, 0, NULL));
	INT(fuse_fs_poll(NULL, "/a", NULL, NULL, &revents));
	INT(fuse_fs_fallocate(NULL, "/a", 0, 0, 1, NULL));
	LONG(fuse_fs_copy_file_range(NULL, "/a", NULL, 0, "/b", NULL, 0, 1, 0));
	LONG(fuse_fs_lseek(NULL, "/a", 0, SEEK_SET, NULL));
	INT(fuse_fs_statx(NULL, "/a", 0, 0, NULL, NULL));
	VOID(fuse_fs_init(NULL, &conn, NULL));
	VOID(fuse_fs_destroy(NULL));
}

static void cuse_calls(void)
{
	static const struct cuse_lowlevel_ops clop;
	static const char *info[] = { "DEVNAME=x", NULL };
	struct libfuse_version v = { 3, 19, 0, 0 };
	char prog[] = "prog";
	char *argv[] = { prog, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct cuse_info ci = { .dev_info_argc = 1, .dev_info_argv = info };
	struct cuse_info holes = { .dev_info_argc = 2, .dev_info_argv = info };
	struct cuse_info no_argv = { .dev_info_argc = 1, .dev_info_argv = NULL };
	int mt;
	struct fuse_session *(*new30)(struct fuse_args *, const struct cuse_info *,
				      const struct cuse_lowlevel_ops *, void *) =
		sym("cuse_lowlevel_new", "FUSE_3.0");
	struct fuse_session *(*setup30)(int, char **, const struct cuse_info *,
					const struct cuse_lowlevel_ops *, int *, void *) =
		sym("cuse_lowlevel_setup", "FUSE_3.0");
	int (*main30)(int, char **, const struct cuse_info *, const struct cuse_lowlevel_ops *,
		      void *) = sym("cuse_lowlevel_main", "FUSE_3.0");

	PTR(new30(&args, NULL, &clop, NULL));
	PTR(new30(&args, &ci, NULL, NULL));
	PTR(new30(&args, &holes, &clop, NULL));
	PTR(new30(&args, &no_argv, &clop, NULL));
	PTR(new30(NULL, &ci, &clop, NULL));
	PTR(cuse_lowlevel_new_319(&args, &ci, &clop, sizeof(clop), NULL, NULL));
	PTR(cuse_lowlevel_new_319(&args, NULL, &clop, sizeof(clop), &v, NULL));
	PTR(setup30(1, argv, &ci, &clop, NULL, NULL));
	PTR(setup30(0, NULL, &ci, &clop, &mt, NULL));
	PTR(setup30(1, argv, NULL, &clop, &mt, NULL));
	PTR(cuse_lowlevel_setup_319(1, argv, &ci, &clop, sizeof(clop), NULL, &mt, NULL));
	INT(main30(0, NULL, &ci, &clop, NULL));
	INT(main30(1, argv, &ci, NULL, NULL));
	INT(cuse_lowlevel_main_319(1, argv, &ci, &clop, sizeof(clop), NULL, NULL));
	VOID(cuse_lowlevel_teardown(NULL));
	fuse_opt_free_args(&args);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	opts_and_args();
	session_calls();
	watchdog_calls();
	service_calls();
	notify_calls();
	reply_calls();
	common_calls();
	highlevel_calls();
	cuse_calls();
	printf("done\n");
	return 0;
}
