/*
 * Exercises the logging, version and loop-configuration calls through the public API and
 * prints what happens, so the same binary can be run on Debian's libfuse and on ferrofuse and
 * the outputs compared. With FEATURE_FLAGS defined it also checks the 3.17.3 feature-flag
 * calls (Debian's 3.14 has none), asserting their results itself.
 */
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>

static char captured[4096];

static void capture(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	snprintf(captured + strlen(captured), sizeof(captured) - strlen(captured),
		 "[%d] %s", (int)level, line);
}

static void flush_captured(const char *what)
{
	printf("%s: %s", what, captured[0] ? captured : "(nothing)\n");
	captured[0] = '\0';
}

int main(void)
{
	struct fuse_loop_config *cfg;
	struct fuse_loop_config_v1 v1 = { 1, 2 };

	/* which library is this? (the test checks, then leaves this line out of comparisons) */
	printf("library %s\n", fuse_pkgversion());
	/* default log function: stderr */
	fuse_log(FUSE_LOG_ERR, "to stderr %d %s\n", 42, "ok");
	fflush(stderr);

	fuse_set_log_func(capture);
	fuse_log(FUSE_LOG_WARNING, "captured %s %u %c\n", "text", 7u, 'x');
	fuse_log(FUSE_LOG_DEBUG, "debug %5.2f\n", 3.14159);
	flush_captured("log");

	cfg = fuse_loop_cfg_create();
	printf("create: %s\n", cfg ? "ok" : "NULL");
	fuse_loop_cfg_set_max_threads(cfg, 4);
	flush_captured("set_max_threads 4");
	fuse_loop_cfg_set_idle_threads(cfg, 2);
	flush_captured("set_idle_threads 2");
	fuse_loop_cfg_set_idle_threads(cfg, 100001);
	flush_captured("set_idle_threads too many");
	fuse_loop_cfg_set_clone_fd(cfg, 1);
	flush_captured("set_clone_fd");
	fuse_loop_cfg_convert(cfg, &v1);
	flush_captured("convert");
#ifdef FEATURE_FLAGS
	/* libfuse 3.19 warns about idle > max and takes UINT_MAX as "no limit" (3.14 did not) */
	fuse_loop_cfg_set_idle_threads(cfg, 8);
	flush_captured("set_idle_threads 8 > max");
	fuse_loop_cfg_set_max_threads(cfg, 1);
	flush_captured("set_max_threads 1 < idle");
	fuse_loop_cfg_set_idle_threads(cfg, UINT_MAX);
	flush_captured("set_idle_threads UINT_MAX");
	fuse_loop_cfg_set_idle_threads(NULL, 1);
	flush_captured("set_idle_threads NULL");
#endif
	fuse_loop_cfg_destroy(cfg);

	/* back to the default sink */
	fuse_set_log_func(NULL);
	fuse_log(FUSE_LOG_INFO, "default again\n");
	fflush(stderr);

#ifdef FEATURE_FLAGS
	{
		struct fuse_conn_info conn;
		int bad = 0;

		memset(&conn, 0, sizeof(conn));
		conn.capable_ext = FUSE_CAP_ASYNC_READ | FUSE_CAP_PASSTHROUGH | FUSE_CAP_ALLOW_IDMAP;
		conn.capable = (uint32_t)conn.capable_ext;
		bad |= !fuse_set_feature_flag(&conn, FUSE_CAP_PASSTHROUGH);
		bad |= fuse_set_feature_flag(&conn, FUSE_CAP_WRITEBACK_CACHE);
		bad |= !fuse_set_feature_flag(&conn, FUSE_CAP_ALLOW_IDMAP);
		bad |= conn.want_ext != (FUSE_CAP_PASSTHROUGH | FUSE_CAP_ALLOW_IDMAP);
		bad |= conn.want != (uint32_t)FUSE_CAP_PASSTHROUGH;
		bad |= !fuse_get_feature_flag(&conn, FUSE_CAP_ASYNC_READ);
		bad |= fuse_get_feature_flag(&conn, FUSE_CAP_SPLICE_READ);
		fuse_unset_feature_flag(&conn, FUSE_CAP_PASSTHROUGH);
		bad |= conn.want_ext != FUSE_CAP_ALLOW_IDMAP;
		bad |= conn.want != 0;
		bad |= fuse_set_feature_flag(NULL, FUSE_CAP_ASYNC_READ);
		bad |= fuse_get_feature_flag(NULL, FUSE_CAP_ASYNC_READ);
		fuse_unset_feature_flag(NULL, FUSE_CAP_ASYNC_READ);
		printf("feature flags: %s\n", bad ? "WRONG" : "ok");
		if (bad)
			return 1;
	}
#endif
	printf("done\n");
	return 0;
}
