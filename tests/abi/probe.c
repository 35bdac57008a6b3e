/* ABI probe: prints what a C program compiled against a set of libfuse headers sees, one
 * `key value` line each, in a fixed order. tests/abi_probe.rs builds it against a reference
 * header set and against ours, with the same FUSE_USE_VERSION, and compares the two outputs.
 *
 * Build: gcc -std=c11 -Wall -Werror -DFUSE_USE_VERSION=N [-DPROBE_NEW=1] -I<headers> probe.c
  * With -DPROBE_CONSTS=1 the test's generated "probe_consts.h" adds one item per header macro.
 *
 * Keys:
 *   sizeof.T alignof.T            struct T (enum.T for enums; bare name for typedefs)
 *   offset.T.F size.T.F           a field that is not a bitfield
 *   bits.T.F                      the bytes of a zeroed struct T after setting bitfield F to all
 *                                 ones: `index:hex` for each non-zero byte
 *   bitval.T.F                    F read back after that (shows width and signedness)
 *   enumsigned.T                  1 if enum T is a signed type
 *   enum.NAME                     an enumerator's value
 *   const.NAME consttype.NAME     a header macro's value and its C type (MISSING if undefined)
 *   expand.*                      what the function-like macros expand to
 */
#ifndef PROBE_NEW
#define PROBE_NEW 0
#endif
#ifndef PROBE_CONSTS
#define PROBE_CONSTS 0
#endif

#include <fuse.h>
#include <fuse_lowlevel.h>
#include <cuse_lowlevel.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static void put_u(const char *what, const char *name, unsigned long long v)
{
	printf("%s%s %llu\n", what, name, v);
}

static void put_i(const char *what, const char *name, long long v)
{
	printf("%s%s %lld\n", what, name, v);
}

static void put_s(const char *what, const char *name, const char *v)
{
	printf("%s%s %s\n", what, name, v);
}

/* The non-zero bytes of an object, as `index:hex` words (or `none`). */
static void put_bytes(const char *what, const char *name, const void *p, size_t n)
{
	const unsigned char *b = p;
	int any = 0;
	printf("%s%s", what, name);
	for (size_t i = 0; i < n; i++) {
		if (b[i]) {
			printf(" %zu:%02x", i, b[i]);
			any = 1;
		}
	}
	printf("%s\n", any ? "" : " none");
}

/* Constants: the value, then the type the macro's expression has. */
__attribute__((unused)) static void const_signed(const char *name, const char *type, long long v)
{
	put_i("const.", name, v);
	put_s("consttype.", name, type);
}

__attribute__((unused)) static void const_unsigned(const char *name, const char *type, unsigned long long v)
{
	put_u("const.", name, v);
	put_s("consttype.", name, type);
}

__attribute__((unused)) static void const_double(const char *name, const char *type, double v)
{
	printf("const.%s %.17g\n", name, v);
	put_s("consttype.", name, type);
}

__attribute__((unused)) static void const_string(const char *name, const char *type, const char *v)
{
	printf("const.%s \"%s\"\n", name, v ? v : "(null)");
	put_s("consttype.", name, type);
}

#define PROBE_TYPE_NAME(v) _Generic((v), \
	_Bool: "_Bool", char: "char", signed char: "signed char", unsigned char: "unsigned char", \
	short: "short", unsigned short: "unsigned short", int: "int", unsigned int: "unsigned int", \
	long: "long", unsigned long: "unsigned long", long long: "long long", \
	unsigned long long: "unsigned long long", float: "float", double: "double", \
	char *: "char *", const char *: "const char *", default: "other")

#define P_CONST(name) _Generic((name), \
	_Bool: const_unsigned, unsigned char: const_unsigned, unsigned short: const_unsigned, \
	unsigned int: const_unsigned, unsigned long: const_unsigned, \
	unsigned long long: const_unsigned, float: const_double, double: const_double, \
	char *: const_string, const char *: const_string, default: const_signed) \
	(#name, PROBE_TYPE_NAME(name), (name));
#define P_NOCONST(name) put_s("const.", #name, "MISSING");

int main(void)
{
	/* Read through a volatile so the compiler neither warns about nor folds the truncation
	 * to each bitfield's width. */
	volatile unsigned long long all_ones = ~0ULL;
	(void)all_ones;

#define P_STRUCT(t) \
	put_u("sizeof.", #t, sizeof(struct t)); put_u("alignof.", #t, _Alignof(struct t));
#define P_ENUM(t) \
	put_u("sizeof.enum.", #t, sizeof(enum t)); put_u("alignof.enum.", #t, _Alignof(enum t)); \
	put_u("enumsigned.", #t, (enum t)-1 < (enum t)0);
#define P_TYPEDEF(t) put_u("sizeof.", #t, sizeof(t)); put_u("alignof.", #t, _Alignof(t));
#define P_FIELD(t, f) \
	put_u("offset.", #t "." #f, offsetof(struct t, f)); \
	put_u("size.", #t "." #f, sizeof(((struct t *)0)->f));
#define P_BITFIELD(t, f) { \
	struct t s_; memset(&s_, 0, sizeof(s_)); s_.f = all_ones; \
	put_bytes("bits.", #t "." #f, &s_, sizeof(s_)); put_i("bitval.", #t "." #f, (long long)s_.f); }
#define P_ENUMVAL(n) put_i("enum.", #n, (long long)(n));
#include "items.h"

#if PROBE_CONSTS
#include "probe_consts.h"
#endif

	/* Function-like macros, evaluated. */
	put_i("expand.", "FUSE_MAKE_VERSION.3.19", FUSE_MAKE_VERSION(3, 19));
	put_i("expand.", "FUSE_MAKE_VERSION.3.0", FUSE_MAKE_VERSION(3, 0));
	{
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(4096);
		put_u("expand.", "FUSE_BUFVEC_INIT.count", bv.count);
		put_u("expand.", "FUSE_BUFVEC_INIT.idx", bv.idx);
		put_u("expand.", "FUSE_BUFVEC_INIT.off", bv.off);
		put_u("expand.", "FUSE_BUFVEC_INIT.buf0.size", bv.buf[0].size);
		put_i("expand.", "FUSE_BUFVEC_INIT.buf0.flags", bv.buf[0].flags);
		put_u("expand.", "FUSE_BUFVEC_INIT.buf0.mem_is_null", bv.buf[0].mem == NULL);
		put_i("expand.", "FUSE_BUFVEC_INIT.buf0.fd", bv.buf[0].fd);
		put_i("expand.", "FUSE_BUFVEC_INIT.buf0.pos", bv.buf[0].pos);
#if PROBE_NEW
		put_u("expand.", "FUSE_BUFVEC_INIT.buf0.mem_size", bv.buf[0].mem_size);
#endif
	}
	{
		char *argv[] = { "prog", "-f", NULL };
		struct fuse_args args = FUSE_ARGS_INIT(2, argv);
		put_i("expand.", "FUSE_ARGS_INIT.argc", args.argc);
		put_u("expand.", "FUSE_ARGS_INIT.argv_is_given", args.argv == argv);
		put_i("expand.", "FUSE_ARGS_INIT.allocated", args.allocated);
	}
	{
		static const struct fuse_opt opts[] = { FUSE_OPT_KEY("-x", 7), FUSE_OPT_END };
		put_u("expand.", "FUSE_OPT_KEY.in_array.count", sizeof(opts) / sizeof(opts[0]));
		put_s("expand.", "FUSE_OPT_KEY.templ", opts[0].templ);
		put_u("expand.", "FUSE_OPT_KEY.offset", opts[0].offset);
		put_i("expand.", "FUSE_OPT_KEY.value", opts[0].value);
		put_u("expand.", "FUSE_OPT_END.templ_is_null", opts[1].templ == NULL);
		put_u("expand.", "FUSE_OPT_END.offset", opts[1].offset);
		put_i("expand.", "FUSE_OPT_END.value", opts[1].value);
	}
	return 0;
}
