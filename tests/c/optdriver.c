/* optdriver: runs ferrofuse's fuse_opt API and fuse_parse_cmdline through many cases and
 * prints every outcome, so that a run against libfuse and a run against ferrofuse can be
 * compared line by line (tests/opt_compare.rs).
 *
 * Usage: optdriver        all cases
 *        optdriver help   only the two help printers
 * Built with -DFUSE_USE_VERSION=30 or 312 against libfuse's headers. */
#define _GNU_SOURCE
#include <fuse_lowlevel.h>
#include <fuse_opt.h>
#include <fuse_log.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The versioned names of fuse_parse_cmdline, called directly. */
int fuse_parse_cmdline_30(struct fuse_args *args, struct fuse_cmdline_opts *opts);
int fuse_parse_cmdline_312(struct fuse_args *args, struct fuse_cmdline_opts *opts);
/* What a program linked against libfuse before 3.12 calls. */
int old_parse_cmdline(struct fuse_args *args, struct fuse_cmdline_opts *opts);
__asm__(".symver old_parse_cmdline,fuse_parse_cmdline@FUSE_3.0");

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------- output helpers ---------- */

static void capture_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	printf("  LOG[%d]: ", (int)level);
	vprintf(fmt, ap);
}

static void print_str(const char *s)
{
	if (!s) {
		printf("(null)");
		return;
	}
	putchar('[');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar(']');
}

static void print_args(const char *what, const struct fuse_args *a)
{
	int i;
	printf("  %s: argc=%d allocated=%d argv=%s", what, a->argc, a->allocated,
	       a->argv ? "set" : "NULL");
	if (a->argv) {
		for (i = 0; i < a->argc; i++) {
			putchar(' ');
			print_str(a->argv[i]);
		}
		printf(" %s", a->argv[a->argc] == NULL ? "<end>" : "<NOT TERMINATED>");
	}
	putchar('\n');
}

static void print_maps(void)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');
		if (p && strstr(p, "libfuse3")) {
			printf("MAPS %s", p);
			break;
		}
	}
	fclose(f);
}

/* ---------- fuse_opt_parse ---------- */

struct data {
	int f;
	int v;
	char *s;
	char *s2;
	unsigned u;
	unsigned long lu;
	int i;
	unsigned o;
	unsigned x;
	int d;
	unsigned sep_u;
	char *sep_s;
	int exact;
	int has;
	long long ll;
	short h;
};

#define D(t, m, v) { t, offsetof(struct data, m), v }

static const struct fuse_opt main_opts[] = {
	D("-f", f, 1),
	D("--flag", f, 2),
	D("verbose", v, 3),
	D("name=%s", s, 0),
	D("--path=%s", s2, 0),
	D("size=%u", u, 0),
	D("big=%lu", lu, 0),
	D("int=%i", i, 0),
	D("oct=%o", o, 0),
	D("hex=%x", x, 0),
	D("dec=%d", d, 0),
	D("ll=%lld", ll, 0),
	D("short=%hd", h, 0),
	D("-n %u", sep_u, 0),
	D("-p %s", sep_s, 0),
	D("mode=fast", exact, 1),
	D("mode=slow", exact, 2),
	D("has=", has, 5),
	D("--long=", has, 6),
	D("both", v, 7),
	FUSE_OPT_KEY("both", 104),
	FUSE_OPT_KEY("-k", 100),
	FUSE_OPT_KEY("key", 101),
	FUSE_OPT_KEY("kv=", 102),
	FUSE_OPT_KEY("-K ", 103),
	FUSE_OPT_KEY("keep", FUSE_OPT_KEY_KEEP),
	FUSE_OPT_KEY("-keep", FUSE_OPT_KEY_KEEP),
	FUSE_OPT_KEY("discard", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("-discard", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("keyfail", 105),
	FUSE_OPT_END
};

static const struct fuse_opt space_opts[] = {
	D("-z %u", u, 0),
	FUSE_OPT_KEY("-z ", 201),
	FUSE_OPT_KEY("sp ", 200),
	FUSE_OPT_KEY("-e", 202),
	FUSE_OPT_KEY("-e", 203),
	D("-e", f, 9),
	FUSE_OPT_END
};

/* The argv of the case being run, to tell the caller's own strings from the library's. */
static char **cur_argv;
static int cur_argc;

static const char *origin(const char *arg)
{
	int i;
	for (i = 0; i < cur_argc; i++)
		if (cur_argv[i] == arg)
			return "orig";
	return "copy";
}

static int cb(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	(void)data;
	printf("  CB key=%d arg=", key);
	print_str(arg);
	printf(" %s outargc=%d\n", origin(arg), outargs->argc);
	if (!strncmp(arg, "drop", 4))
		return 0;
	if (!strncmp(arg, "fail", 4) || !strcmp(arg, "keyfail"))
		return -1;
	if (!strncmp(arg, "two", 3))
		return 2;
	if (!strncmp(arg, "neg", 3))
		return -5;
	if (!strncmp(arg, "add", 3)) {
		printf("  add_arg -> %d\n", fuse_opt_add_arg(outargs, "ADDED"));
		return 0;
	}
	if (!strncmp(arg, "ins", 3)) {
		printf("  insert_arg -> %d\n", fuse_opt_insert_arg(outargs, 1, "INSERTED"));
		return 1;
	}
	return 1;
}

static void print_data(const struct data *d)
{
	printf("  data: f=%d v=%d s=", d->f, d->v);
	print_str(d->s);
	printf(" s2=");
	print_str(d->s2);
	printf(" u=%u lu=%lu i=%d o=%u x=%u d=%d ll=%lld h=%hd sep_u=%u sep_s=", d->u, d->lu,
	       d->i, d->o, d->x, d->d, d->ll, d->h, d->sep_u);
	print_str(d->sep_s);
	printf(" exact=%d has=%d\n", d->exact, d->has);
}

static void free_data(struct data *d)
{
	free(d->s);
	free(d->s2);
	free(d->sep_s);
	memset(d, 0, sizeof(*d));
}

/* Parse a copy of argv (so the library may do as it likes with it) with the given table. */
static void parse_case(const char *name, const struct fuse_opt *opts, fuse_opt_proc_t proc,
		       int argc, const char *const *argv)
{
	struct data d;
	struct fuse_args args;
	char **copy = calloc(argc + 1, sizeof(char *));
	int i, res;

	for (i = 0; i < argc; i++)
		copy[i] = strdup(argv[i]);
	memset(&d, 0, sizeof(d));
	d.s = strdup("old");
	args.argc = argc;
	args.argv = copy;
	args.allocated = 0;
	cur_argv = copy;
	cur_argc = argc;

	printf("== parse %s\n", name);
	print_args("in", &args);
	res = fuse_opt_parse(&args, &d, opts, proc);
	printf("  result=%d\n", res);
	print_args("out", &args);
	print_data(&d);
	printf("  out is the input: %s\n", args.argv == copy ? "yes" : "no");

	fuse_opt_free_args(&args);
	for (i = 0; i < argc; i++)
		free(copy[i]);
	free(copy);
	free_data(&d);
}

#define PARSE(name, ...)                                                    \
	do {                                                                \
		const char *const v_[] = { __VA_ARGS__ };                   \
		parse_case(name, main_opts, cb, N(v_), v_);                 \
	} while (0)

#define PARSE_WITH(name, opts, proc, ...)                                   \
	do {                                                                \
		const char *const v_[] = { __VA_ARGS__ };                   \
		parse_case(name, opts, proc, N(v_), v_);                    \
	} while (0)

static void parse_cases(void)
{
	PARSE("program name only", "prog");
	PARSE("flags", "prog", "-f", "--flag", "-overbose");
	PARSE("formats", "prog", "-o",
	      "name=foo,size=42,big=123456789012,int=0x10,oct=17,hex=ff,dec=-12,ll=-9000000000,short=77");
	PARSE("int base detection", "prog", "-oint=010,hex=0x1F", "-oint=-0x7");
	PARSE("format trailing junk", "prog", "-osize=12abc,dec= 5");
	PARSE("negative unsigned", "prog", "-osize=-1,big=-2");
	PARSE("overflow", "prog", "-osize=4294967296,big=99999999999999999999999");
	PARSE("string replaced", "prog", "-oname=first", "-oname=second", "--path=/x/y",
	      "--path=");
	PARSE("escaped commas", "prog", "-oname=a\\,b", "-oname=c\\\\d,verbose");
	PARSE("octal escapes", "prog", "-oname=\\101\\102\\060", "-ok\\145y,\\166erbose");
	PARSE("octal edge", "prog", "-oname=\\400\\08\\7", "-ounknown=\\141\\142");
	PARSE("escaped nul", "prog", "-oname=ab\\000cd,other\\000x", "-ox");
	PARSE("trailing backslash", "prog", "-oname=tail\\", "-ozz\\");
	PARSE("separate params", "prog", "-n", "5", "-n7", "-p", "str", "-pinline", "-p", "-f");
	PARSE("exact templates", "prog", "-omode=fast", "-omode=slow,mode=other", "-omode");
	PARSE("prefix templates", "prog", "-ohas=1,has=,has", "--long=x", "--long");
	PARSE("keys", "prog", "-k", "-okey,kv=3,kv", "-K", "val", "-Kinline", "-keep",
	      "-okeep,discard", "-discard", "key");
	PARSE("double match", "prog", "-oboth");
	PARSE("non-options", "prog", "mnt", "extra", "-f", "--", "-k", "-oname=zzz", "--", "x");
	PARSE("callback answers", "prog", "drop1", "two", "-odrop2,two2", "neg", "-oneg2");
	PARSE("callback edits outargs", "prog", "add1", "ins1", "-oadd2", "-oins2", "last");
	PARSE("callback error", "prog", "ok1", "fail1", "never");
	PARSE("callback error in -o", "prog", "-ook,fail2,never");
	PARSE("key callback error", "prog", "-okeyfail");
	PARSE("missing -o argument", "prog", "-f", "-o");
	PARSE("missing -n argument", "prog", "-n");
	PARSE("missing -p argument", "prog", "-f", "-p");
	PARSE("missing -K argument", "prog", "-K");
	PARSE("invalid %u", "prog", "-f", "-osize=abc", "never");
	PARSE("invalid empty %u", "prog", "-osize=");
	PARSE("invalid separate %u", "prog", "-n", "x");
	PARSE("invalid %i", "prog", "-oint=zz");
	PARSE("empty -o", "prog", "-o", "");
	PARSE("empty members", "prog", "-o", ",,a,,", "-o,");
	PARSE("empty argument", "prog", "", "-oa");
	PARSE("dash alone and unknown", "prog", "-", "--unknown", "-x", "-oname");
	PARSE("spaces in -o", "prog", "-o", "a b,name=c d");
	PARSE("trailing -- removed", "prog", "--");
	PARSE("trailing -- after non-option", "prog", "x", "--");
	PARSE("trailing -- kept with -o", "prog", "-ofoo", "--");
	PARSE("-- then -- again", "prog", "--", "--");
	PARSE("-o after --", "prog", "a", "--", "-ob");
	PARSE_WITH("NULL callback", main_opts, NULL, "prog", "x", "-oy,verbose", "-q", "-k");
	PARSE_WITH("NULL table", NULL, cb, "prog", "x", "-oy", "-q");
	PARSE_WITH("space templates", space_opts, cb, "prog", "-z", "1", "2", "-z3", "-e",
		   "-osp,after", "arg");
	PARSE_WITH("space template in -o at end", space_opts, cb, "prog", "-osp");
	PARSE_WITH("space templates missing second", space_opts, cb, "prog", "-z", "1");
}

static void parse_special_cases(void)
{
	struct data d;
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	char *argv0[] = { "prog", NULL };
	int res;

	memset(&d, 0, sizeof(d));
	printf("== parse NULL args\n");
	printf("  result=%d\n", fuse_opt_parse(NULL, &d, main_opts, cb));

	printf("== parse empty args\n");
	res = fuse_opt_parse(&args, &d, main_opts, cb);
	printf("  result=%d\n", res);
	print_args("out", &args);

	printf("== parse argc 0 with argv\n");
	args.argv = argv0;
	res = fuse_opt_parse(&args, &d, main_opts, cb);
	printf("  result=%d same=%s\n", res, args.argv == argv0 ? "yes" : "no");
	print_args("out", &args);

	printf("== parse twice\n");
	{
		char *v[] = { "prog", "-oname=a,zzz", "-f", "mnt", NULL };
		struct fuse_args a2 = FUSE_ARGS_INIT(4, v);
		cur_argv = v;
		cur_argc = 4;
		res = fuse_opt_parse(&a2, &d, main_opts, cb);
		printf("  result=%d\n", res);
		print_args("first", &a2);
		cur_argv = a2.argv;
		cur_argc = a2.argc;
		res = fuse_opt_parse(&a2, &d, main_opts, cb);
		printf("  result=%d\n", res);
		print_args("second", &a2);
		print_data(&d);
		fuse_opt_free_args(&a2);
		print_args("freed", &a2);
		free_data(&d);
	}
}

/* ---------- fuse_opt_match ---------- */

static void match_cases(void)
{
	static const char *const probes[] = {
		"-f", "-ff", "--flag", "verbose", "verbos", "name=", "name=x", "name",
		"--path=/a", "--path", "mode=fast", "mode=fas", "mode=", "has=", "has",
		"--long=1", "-n", "-n5", "-nx", "-K", "-Kv", "keep", "discard", "", "-",
		"--", "-o", "zzz",
	};
	static const struct fuse_opt empty[] = { FUSE_OPT_END };
	int i;

	printf("== match\n");
	for (i = 0; i < N(probes); i++) {
		printf("  match ");
		print_str(probes[i]);
		printf(" main=%d space=%d empty=%d null=%d\n", fuse_opt_match(main_opts, probes[i]),
		       fuse_opt_match(space_opts, probes[i]), fuse_opt_match(empty, probes[i]),
		       fuse_opt_match(NULL, probes[i]));
	}
}

/* ---------- argument vectors and option lists ---------- */

static void args_cases(void)
{
	struct fuse_args a = FUSE_ARGS_INIT(0, NULL);

	printf("== add and insert\n");
	printf("  add a -> %d\n", fuse_opt_add_arg(&a, "a"));
	print_args("args", &a);
	printf("  add b -> %d\n", fuse_opt_add_arg(&a, "b"));
	printf("  insert z at 0 -> %d\n", fuse_opt_insert_arg(&a, 0, "z"));
	printf("  insert end at argc -> %d\n", fuse_opt_insert_arg(&a, a.argc, "end"));
	printf("  insert mid at 2 -> %d\n", fuse_opt_insert_arg(&a, 2, "mid"));
	printf("  add empty -> %d\n", fuse_opt_add_arg(&a, ""));
	print_args("args", &a);
	fuse_opt_free_args(&a);
	print_args("freed", &a);
	fuse_opt_free_args(&a);
	print_args("freed twice", &a);
	fuse_opt_free_args(NULL);
	printf("  free NULL: ok\n");

	printf("== insert into empty\n");
	printf("  insert x at 0 -> %d\n", fuse_opt_insert_arg(&a, 0, "x"));
	print_args("args", &a);
	fuse_opt_free_args(&a);

	printf("== free of unallocated args\n");
	{
		char *v[] = { "p", "q", NULL };
		struct fuse_args u = FUSE_ARGS_INIT(2, v);
		fuse_opt_free_args(&u);
		print_args("after", &u);
		printf("  strings intact: %s %s\n", v[0], v[1]);
	}
}

static void add_opt_cases(void)
{
	char *o = NULL;
	char *e = NULL;

	printf("== add_opt\n");
	printf("  add a -> %d\n", fuse_opt_add_opt(&o, "a"));
	printf("  add b,c -> %d\n", fuse_opt_add_opt(&o, "b,c"));
	printf("  add d\\e -> %d\n", fuse_opt_add_opt(&o, "d\\e"));
	printf("  add empty -> %d\n", fuse_opt_add_opt(&o, ""));
	printf("  add f -> %d\n", fuse_opt_add_opt(&o, "f"));
	printf("  list=");
	print_str(o);
	putchar('\n');

	printf("== add_opt_escaped\n");
	printf("  esc a,b -> %d\n", fuse_opt_add_opt_escaped(&e, "a,b"));
	printf("  esc c\\d -> %d\n", fuse_opt_add_opt_escaped(&e, "c\\d"));
	printf("  esc ,\\\\, -> %d\n", fuse_opt_add_opt_escaped(&e, ",\\\\,"));
	printf("  esc empty -> %d\n", fuse_opt_add_opt_escaped(&e, ""));
	printf("  add plain x,y -> %d\n", fuse_opt_add_opt(&e, "x,y"));
	printf("  list=");
	print_str(e);
	putchar('\n');

	/* An escaped list parses back into the original members. */
	{
		char *argv[] = { "prog", "-o", e, NULL };
		struct fuse_args a = FUSE_ARGS_INIT(3, argv);
		printf("== escaped list parsed back\n");
		cur_argv = argv;
		cur_argc = 3;
		printf("  result=%d\n", fuse_opt_parse(&a, NULL, NULL, cb));
		print_args("out", &a);
		fuse_opt_free_args(&a);
	}
	free(o);
	free(e);

	printf("== add_opt to empty string\n");
	o = strdup("");
	printf("  add x -> %d\n", fuse_opt_add_opt(&o, "x"));
	printf("  list=");
	print_str(o);
	putchar('\n');
	free(o);
}

/* ---------- fuse_parse_cmdline ---------- */

#define UNTOUCHED ((char *)(uintptr_t)0xababababababababULL)

typedef int (*parse_fn)(struct fuse_args *, struct fuse_cmdline_opts *);

static void print_cmdline(const struct fuse_cmdline_opts *o, int with_max_threads)
{
	printf("  opts: singlethread=%d foreground=%d debug=%d nodefault_subtype=%d mountpoint=",
	       o->singlethread, o->foreground, o->debug, o->nodefault_subtype);
	if (o->mountpoint == UNTOUCHED)
		printf("(untouched)");
	else
		print_str(o->mountpoint);
	printf(" show_version=%d show_help=%d clone_fd=%d max_idle_threads=%u", o->show_version,
	       o->show_help, o->clone_fd, o->max_idle_threads);
	if (with_max_threads)
		printf(" max_threads=%u", o->max_threads);
	putchar('\n');
}

static void cmdline_case(const char *fname, parse_fn fn, int argc, const char *const *argv)
{
	struct fuse_cmdline_opts o;
	struct fuse_args args;
	char **copy = calloc(argc + 1, sizeof(char *));
	int i, res;

	for (i = 0; i < argc; i++)
		copy[i] = strdup(argv[i]);
	args.argc = argc;
	args.argv = copy;
	args.allocated = 0;
	memset(&o, 0xab, sizeof(o));

	printf("== %s:", fname);
	for (i = 0; i < argc; i++) {
		putchar(' ');
		print_str(argv[i]);
	}
	putchar('\n');
	res = fn(&args, &o);
	printf("  result=%d\n", res);
	print_args("args", &args);
	print_cmdline(&o, 1);
	if (o.mountpoint != UNTOUCHED)
		free(o.mountpoint);

	fuse_opt_free_args(&args);
	for (i = 0; i < argc; i++)
		free(copy[i]);
	free(copy);
}

#define CMD(...)                                                                    \
	do {                                                                        \
		const char *const v_[] = { __VA_ARGS__ };                           \
		cmdline_case("fuse_parse_cmdline", fuse_parse_cmdline, N(v_), v_);  \
		cmdline_case("fuse_parse_cmdline_312", fuse_parse_cmdline_312, N(v_), v_); \
		cmdline_case("fuse_parse_cmdline_30", fuse_parse_cmdline_30, N(v_), v_); \
		cmdline_case("fuse_parse_cmdline@FUSE_3.0", old_parse_cmdline, N(v_), v_); \
	} while (0)

static void cmdline_cases(void)
{
	CMD("prog");
	CMD("/usr/local/bin/myfs", "-d", "/usr/../usr");
	CMD("prog", "-f", "-s", "-o", "clone_fd,max_idle_threads=5,max_threads=20", "/");
	CMD("prog", "-h");
	CMD("prog", "--help", "-x");
	CMD("prog", "-V");
	CMD("prog", "--version");
	CMD("prog", "-odebug,fsname=x,allow_other", "/tmp/..");
	CMD("prog", "-osubtype=y", "-ofoo");
	CMD("prog", "-d", "-odebug", "-f", "-s", "-s");
	CMD("prog", "/", "/tmp");
	CMD("prog", "/nonexistent/dir");
	CMD("prog", "/etc/passwd/x");
	CMD("prog", "-f", "/etc/passwd");
	CMD("prog", "-omax_threads=abc");
	CMD("prog", "-omax_threads=-1", "-omax_idle_threads=4294967296");
	CMD("prog", "-omax_threads=", "/");
	CMD("dir/", "-x", "--", "/");
	CMD("prog", "/dev/fd/7");
	CMD("prog", "-o");
	CMD("", "/");
	CMD("prog", "-o", "fsname=a\\,b", "-ounknown=\\,x");
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "help")) {
		printf("== fuse_cmdline_help\n");
		fuse_cmdline_help();
		printf("== fuse_lowlevel_help\n");
		fuse_lowlevel_help();
		return 0;
	}

	print_maps();

	/* One error with the default log function, which writes to stderr. */
	printf("== default log function\n");
	{
		char *v[] = { "prog", "-o", NULL };
		struct fuse_args a = FUSE_ARGS_INIT(2, v);
		printf("  result=%d\n", fuse_opt_parse(&a, NULL, NULL, NULL));
		fflush(stdout);
	}

	fuse_set_log_func(capture_log);

	parse_cases();
	parse_special_cases();
	match_cases();
	args_cases();
	add_opt_cases();
	cmdline_cases();
	printf("== done\n");
	return 0;
}
