/* The little ferrofuse needs in C, linked whole into both libraries:
 * - the C-variadic fuse_log() of <fuse_log.h> (stable Rust cannot define a function taking
 *   `...`; everything else about logging is in fuse_log.rs);
 * - the absolute symbols libfuse's library has for each version node (GNU ld makes them,
 *   rust-lld does not). */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

typedef void (*ferrofuse_log_fn)(int level, const char *fmt, va_list ap);

/* Set by fuse_set_log_func (Rust); NULL selects the default output. */
__attribute__((visibility("hidden"))) ferrofuse_log_fn ferrofuse_log_func;
/* Set by fuse_log_enable_syslog (Rust). */
__attribute__((visibility("hidden"))) int ferrofuse_log_to_syslog;

void fuse_log(int level, const char *fmt, ...);
__asm__(".symver fuse_log, fuse_log@@@FUSE_3.7");

void fuse_log(int level, const char *fmt, ...)
{
	va_list ap;
	ferrofuse_log_fn fn = __atomic_load_n(&ferrofuse_log_func, __ATOMIC_ACQUIRE);

	if (fmt == NULL)
		return;
	va_start(ap, fmt);
	if (fn != NULL)
		fn(level, fmt, ap);
	else if (__atomic_load_n(&ferrofuse_log_to_syslog, __ATOMIC_ACQUIRE))
		vsyslog(level, fmt, ap);
	else
		vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* FUSE_3.x@@FUSE_3.x, value 0, as in libfuse's library. */
#define FERROFUSE_VERSION_NODE(n) \
	__asm__(".globl " n "\n\t.type " n ", @object\n\t.set " n ", 0\n\t.symver " n ", " n "@@@" n)
FERROFUSE_VERSION_NODE("FUSE_3.0");
FERROFUSE_VERSION_NODE("FUSE_3.1");
FERROFUSE_VERSION_NODE("FUSE_3.2");
FERROFUSE_VERSION_NODE("FUSE_3.3");
FERROFUSE_VERSION_NODE("FUSE_3.4");
FERROFUSE_VERSION_NODE("FUSE_3.7");
FERROFUSE_VERSION_NODE("FUSE_3.12");
FERROFUSE_VERSION_NODE("FUSE_3.17");
FERROFUSE_VERSION_NODE("FUSE_3.17.3");
FERROFUSE_VERSION_NODE("FUSE_3.18");
FERROFUSE_VERSION_NODE("FUSE_3.19");
