/* Prototype extraction for the ABI test: compiled with `gcc -aux-info`, which prints every
 * function prototype the headers declare, with its parameter types spelled out. Each typed
 * item of items.h becomes one more prototype here, taking that field's (or typedef's) type as
 * its only parameter, so the same listing also gives every field type and the callback
 * signatures inside struct fuse_lowlevel_ops.
 *
 * tests/abi_probe.rs then includes this file again, in a translation unit built against the
 * reference headers, next to our headers' prototype texts, and asks the compiler whether each
 * pair of types is compatible.
 */
#ifndef PROBE_NEW
#define PROBE_NEW 0
#endif

#include <fuse.h>
#include <fuse_lowlevel.h>
#include <cuse_lowlevel.h>

#include <stddef.h>

#define P_STRUCT(t)
#define P_ENUM(t)
#define P_ENUMVAL(n)
#define P_BITFIELD(t, f)
#define P_TYPEDEF(t) void probe_ty__##t(t);
#define P_FIELD(t, f) void probe_ty__##t##__##f(__typeof__(((struct t *)0)->f));
#include "items.h"
