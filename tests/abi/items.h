/* What the ABI probe measures: the public types of <fuse_lowlevel.h>, <fuse_common.h>,
 * <fuse_opt.h>, <fuse_log.h>, <cuse_lowlevel.h> and <fuse.h>, one item per line.
 *
 * This file is an X-macro list: the file that includes it defines P_STRUCT, P_ENUM, P_TYPEDEF,
 * P_FIELD, P_BITFIELD and P_ENUMVAL first. probe.c turns each item into `key value` lines;
 * types.c turns the typed ones into declarations whose prototypes `gcc -aux-info` prints.
 *
 * Keep every item on a line of its own: when a header under test lacks a name, the compile error
 * points at that line and tests/abi_probe.rs drops just that line (the item's keys then count as
 * missing from that header set). Against the reference headers nothing may be dropped, so items
 * that only some libfuse releases have sit under a guard:
 *   PROBE_NEW  set when the headers are libfuse 3.17 or later (layouts of the .so.4 ABI).
 * Macros (#define constants) are not listed here: the test finds them in the headers itself.
 */

/* ---- fuse_common.h ---- */
P_STRUCT(fuse_file_info)
P_FIELD(fuse_file_info, flags)
P_BITFIELD(fuse_file_info, writepage)
P_BITFIELD(fuse_file_info, direct_io)
P_BITFIELD(fuse_file_info, keep_cache)
P_BITFIELD(fuse_file_info, flush)
P_BITFIELD(fuse_file_info, nonseekable)
P_BITFIELD(fuse_file_info, flock_release)
P_BITFIELD(fuse_file_info, cache_readdir)
P_BITFIELD(fuse_file_info, noflush)
#if PROBE_NEW
P_BITFIELD(fuse_file_info, parallel_direct_writes)
P_BITFIELD(fuse_file_info, kill_suidgid)
#endif
P_BITFIELD(fuse_file_info, padding)
P_BITFIELD(fuse_file_info, padding2)
#if PROBE_NEW
P_BITFIELD(fuse_file_info, padding3)
#endif
P_FIELD(fuse_file_info, fh)
P_FIELD(fuse_file_info, lock_owner)
P_FIELD(fuse_file_info, poll_events)
#if PROBE_NEW
P_FIELD(fuse_file_info, backing_id)
P_FIELD(fuse_file_info, compat_flags)
P_FIELD(fuse_file_info, reserved)
#endif

/* Before API 3.12 the loop configuration is a public struct; from 3.12 on it is opaque and the
 * old layout lives on as fuse_loop_config_v1. */
#if FUSE_USE_VERSION < 312
P_STRUCT(fuse_loop_config)
P_FIELD(fuse_loop_config, clone_fd)
P_FIELD(fuse_loop_config, max_idle_threads)
#else
P_STRUCT(fuse_loop_config_v1)
P_FIELD(fuse_loop_config_v1, clone_fd)
P_FIELD(fuse_loop_config_v1, max_idle_threads)
#endif

P_STRUCT(fuse_conn_info)
P_FIELD(fuse_conn_info, proto_major)
P_FIELD(fuse_conn_info, proto_minor)
P_FIELD(fuse_conn_info, max_write)
P_FIELD(fuse_conn_info, max_read)
P_FIELD(fuse_conn_info, max_readahead)
P_FIELD(fuse_conn_info, capable)
P_FIELD(fuse_conn_info, want)
P_FIELD(fuse_conn_info, max_background)
P_FIELD(fuse_conn_info, congestion_threshold)
P_FIELD(fuse_conn_info, time_gran)
#if PROBE_NEW
P_FIELD(fuse_conn_info, max_backing_stack_depth)
P_BITFIELD(fuse_conn_info, no_interrupt)
P_BITFIELD(fuse_conn_info, padding)
P_FIELD(fuse_conn_info, capable_ext)
P_FIELD(fuse_conn_info, want_ext)
P_FIELD(fuse_conn_info, request_timeout)
#endif
P_FIELD(fuse_conn_info, reserved)

P_ENUM(fuse_buf_flags)
P_ENUMVAL(FUSE_BUF_IS_FD)
P_ENUMVAL(FUSE_BUF_FD_SEEK)
P_ENUMVAL(FUSE_BUF_FD_RETRY)

P_ENUM(fuse_buf_copy_flags)
P_ENUMVAL(FUSE_BUF_NO_SPLICE)
P_ENUMVAL(FUSE_BUF_FORCE_SPLICE)
P_ENUMVAL(FUSE_BUF_SPLICE_MOVE)
P_ENUMVAL(FUSE_BUF_SPLICE_NONBLOCK)

P_STRUCT(fuse_buf)
P_FIELD(fuse_buf, size)
P_FIELD(fuse_buf, flags)
P_FIELD(fuse_buf, mem)
P_FIELD(fuse_buf, fd)
P_FIELD(fuse_buf, pos)
#if PROBE_NEW
P_FIELD(fuse_buf, mem_size)
#endif

P_STRUCT(fuse_bufvec)
P_FIELD(fuse_bufvec, count)
P_FIELD(fuse_bufvec, idx)
P_FIELD(fuse_bufvec, off)
P_FIELD(fuse_bufvec, buf)

#if PROBE_NEW
P_STRUCT(libfuse_version)
P_FIELD(libfuse_version, major)
P_FIELD(libfuse_version, minor)
P_FIELD(libfuse_version, hotfix)
P_FIELD(libfuse_version, padding)
#endif

/* ---- fuse_opt.h ---- */
P_STRUCT(fuse_opt)
P_FIELD(fuse_opt, templ)
P_FIELD(fuse_opt, offset)
P_FIELD(fuse_opt, value)

P_STRUCT(fuse_args)
P_FIELD(fuse_args, argc)
P_FIELD(fuse_args, argv)
P_FIELD(fuse_args, allocated)

P_TYPEDEF(fuse_opt_proc_t)

/* ---- fuse_log.h ---- */
P_ENUM(fuse_log_level)
P_ENUMVAL(FUSE_LOG_EMERG)
P_ENUMVAL(FUSE_LOG_ALERT)
P_ENUMVAL(FUSE_LOG_CRIT)
P_ENUMVAL(FUSE_LOG_ERR)
P_ENUMVAL(FUSE_LOG_WARNING)
P_ENUMVAL(FUSE_LOG_NOTICE)
P_ENUMVAL(FUSE_LOG_INFO)
P_ENUMVAL(FUSE_LOG_DEBUG)

P_TYPEDEF(fuse_log_func_t)

/* ---- fuse_lowlevel.h ---- */
P_TYPEDEF(fuse_ino_t)
P_TYPEDEF(fuse_req_t)
P_TYPEDEF(fuse_interrupt_func_t)

P_STRUCT(fuse_entry_param)
P_FIELD(fuse_entry_param, ino)
P_FIELD(fuse_entry_param, generation)
P_FIELD(fuse_entry_param, attr)
P_FIELD(fuse_entry_param, attr_timeout)
P_FIELD(fuse_entry_param, entry_timeout)

P_STRUCT(fuse_ctx)
P_FIELD(fuse_ctx, uid)
P_FIELD(fuse_ctx, gid)
P_FIELD(fuse_ctx, pid)
P_FIELD(fuse_ctx, umask)

P_STRUCT(fuse_forget_data)
P_FIELD(fuse_forget_data, ino)
P_FIELD(fuse_forget_data, nlookup)

P_STRUCT(fuse_custom_io)
P_FIELD(fuse_custom_io, writev)
P_FIELD(fuse_custom_io, read)
P_FIELD(fuse_custom_io, splice_receive)
P_FIELD(fuse_custom_io, splice_send)
#if PROBE_NEW
P_FIELD(fuse_custom_io, clone_fd)
#endif

/* 3.14 names this enum fuse_expire_flags; 3.17 renamed it and added FUSE_LL_INVALIDATE. */
#if PROBE_NEW
P_ENUM(fuse_notify_entry_flags)
P_ENUMVAL(FUSE_LL_INVALIDATE)
#else
P_ENUM(fuse_expire_flags)
#endif
P_ENUMVAL(FUSE_LL_EXPIRE_ONLY)

P_STRUCT(fuse_lowlevel_ops)
P_FIELD(fuse_lowlevel_ops, init)
P_FIELD(fuse_lowlevel_ops, destroy)
P_FIELD(fuse_lowlevel_ops, lookup)
P_FIELD(fuse_lowlevel_ops, forget)
P_FIELD(fuse_lowlevel_ops, getattr)
P_FIELD(fuse_lowlevel_ops, setattr)
P_FIELD(fuse_lowlevel_ops, readlink)
P_FIELD(fuse_lowlevel_ops, mknod)
P_FIELD(fuse_lowlevel_ops, mkdir)
P_FIELD(fuse_lowlevel_ops, unlink)
P_FIELD(fuse_lowlevel_ops, rmdir)
P_FIELD(fuse_lowlevel_ops, symlink)
P_FIELD(fuse_lowlevel_ops, rename)
P_FIELD(fuse_lowlevel_ops, link)
P_FIELD(fuse_lowlevel_ops, open)
P_FIELD(fuse_lowlevel_ops, read)
P_FIELD(fuse_lowlevel_ops, write)
P_FIELD(fuse_lowlevel_ops, flush)
P_FIELD(fuse_lowlevel_ops, release)
P_FIELD(fuse_lowlevel_ops, fsync)
P_FIELD(fuse_lowlevel_ops, opendir)
P_FIELD(fuse_lowlevel_ops, readdir)
P_FIELD(fuse_lowlevel_ops, releasedir)
P_FIELD(fuse_lowlevel_ops, fsyncdir)
P_FIELD(fuse_lowlevel_ops, statfs)
P_FIELD(fuse_lowlevel_ops, setxattr)
P_FIELD(fuse_lowlevel_ops, getxattr)
P_FIELD(fuse_lowlevel_ops, listxattr)
P_FIELD(fuse_lowlevel_ops, removexattr)
P_FIELD(fuse_lowlevel_ops, access)
P_FIELD(fuse_lowlevel_ops, create)
P_FIELD(fuse_lowlevel_ops, getlk)
P_FIELD(fuse_lowlevel_ops, setlk)
P_FIELD(fuse_lowlevel_ops, bmap)
P_FIELD(fuse_lowlevel_ops, ioctl)
P_FIELD(fuse_lowlevel_ops, poll)
P_FIELD(fuse_lowlevel_ops, write_buf)
P_FIELD(fuse_lowlevel_ops, retrieve_reply)
P_FIELD(fuse_lowlevel_ops, forget_multi)
P_FIELD(fuse_lowlevel_ops, flock)
P_FIELD(fuse_lowlevel_ops, fallocate)
P_FIELD(fuse_lowlevel_ops, readdirplus)
P_FIELD(fuse_lowlevel_ops, copy_file_range)
P_FIELD(fuse_lowlevel_ops, lseek)
#if PROBE_NEW
P_FIELD(fuse_lowlevel_ops, tmpfile)
P_FIELD(fuse_lowlevel_ops, statx)
#endif

P_STRUCT(fuse_cmdline_opts)
P_FIELD(fuse_cmdline_opts, singlethread)
P_FIELD(fuse_cmdline_opts, foreground)
P_FIELD(fuse_cmdline_opts, debug)
P_FIELD(fuse_cmdline_opts, nodefault_subtype)
P_FIELD(fuse_cmdline_opts, mountpoint)
P_FIELD(fuse_cmdline_opts, show_version)
P_FIELD(fuse_cmdline_opts, show_help)
P_FIELD(fuse_cmdline_opts, clone_fd)
P_FIELD(fuse_cmdline_opts, max_idle_threads)
P_FIELD(fuse_cmdline_opts, max_threads)

/* ---- cuse_lowlevel.h ---- */
P_STRUCT(cuse_info)
P_FIELD(cuse_info, dev_major)
P_FIELD(cuse_info, dev_minor)
P_FIELD(cuse_info, dev_info_argc)
P_FIELD(cuse_info, dev_info_argv)
P_FIELD(cuse_info, flags)
P_STRUCT(cuse_lowlevel_ops)
P_FIELD(cuse_lowlevel_ops, init)
P_FIELD(cuse_lowlevel_ops, init_done)
P_FIELD(cuse_lowlevel_ops, destroy)
P_FIELD(cuse_lowlevel_ops, open)
P_FIELD(cuse_lowlevel_ops, read)
P_FIELD(cuse_lowlevel_ops, write)
P_FIELD(cuse_lowlevel_ops, flush)
P_FIELD(cuse_lowlevel_ops, release)
P_FIELD(cuse_lowlevel_ops, fsync)
P_FIELD(cuse_lowlevel_ops, ioctl)
P_FIELD(cuse_lowlevel_ops, poll)

/* ---- fuse.h ---- */
P_ENUM(fuse_readdir_flags)
P_ENUMVAL(FUSE_READDIR_PLUS)
P_ENUM(fuse_fill_dir_flags)
P_ENUMVAL(FUSE_FILL_DIR_PLUS)
#if PROBE_NEW
P_ENUMVAL(FUSE_READDIR_DEFAULTS)
P_ENUMVAL(FUSE_FILL_DIR_DEFAULTS)
#endif
P_TYPEDEF(fuse_fill_dir_t)
/* The field order of struct fuse_config changed in 3.17 (no_rofd_flush moved to the end):
 * the offsets differ between the two ABIs, the names do not. */
P_STRUCT(fuse_config)
P_FIELD(fuse_config, set_gid)
P_FIELD(fuse_config, gid)
P_FIELD(fuse_config, set_uid)
P_FIELD(fuse_config, uid)
P_FIELD(fuse_config, set_mode)
P_FIELD(fuse_config, umask)
P_FIELD(fuse_config, entry_timeout)
P_FIELD(fuse_config, negative_timeout)
P_FIELD(fuse_config, attr_timeout)
P_FIELD(fuse_config, intr)
P_FIELD(fuse_config, intr_signal)
P_FIELD(fuse_config, remember)
P_FIELD(fuse_config, hard_remove)
P_FIELD(fuse_config, use_ino)
P_FIELD(fuse_config, readdir_ino)
P_FIELD(fuse_config, direct_io)
P_FIELD(fuse_config, kernel_cache)
P_FIELD(fuse_config, auto_cache)
P_FIELD(fuse_config, ac_attr_timeout_set)
P_FIELD(fuse_config, ac_attr_timeout)
P_FIELD(fuse_config, nullpath_ok)
P_FIELD(fuse_config, show_help)
P_FIELD(fuse_config, modules)
P_FIELD(fuse_config, debug)
P_FIELD(fuse_config, no_rofd_flush)
#if PROBE_NEW
P_FIELD(fuse_config, fmask)
P_FIELD(fuse_config, dmask)
P_FIELD(fuse_config, parallel_direct_writes)
P_FIELD(fuse_config, flags)
P_FIELD(fuse_config, reserved)
#endif
P_STRUCT(fuse_context)
P_FIELD(fuse_context, fuse)
P_FIELD(fuse_context, uid)
P_FIELD(fuse_context, gid)
P_FIELD(fuse_context, pid)
P_FIELD(fuse_context, private_data)
P_FIELD(fuse_context, umask)
P_STRUCT(fuse_operations)
P_FIELD(fuse_operations, getattr)
P_FIELD(fuse_operations, readlink)
P_FIELD(fuse_operations, mknod)
P_FIELD(fuse_operations, mkdir)
P_FIELD(fuse_operations, unlink)
P_FIELD(fuse_operations, rmdir)
P_FIELD(fuse_operations, symlink)
P_FIELD(fuse_operations, rename)
P_FIELD(fuse_operations, link)
P_FIELD(fuse_operations, chmod)
P_FIELD(fuse_operations, chown)
P_FIELD(fuse_operations, truncate)
P_FIELD(fuse_operations, open)
P_FIELD(fuse_operations, read)
P_FIELD(fuse_operations, write)
P_FIELD(fuse_operations, statfs)
P_FIELD(fuse_operations, flush)
P_FIELD(fuse_operations, release)
P_FIELD(fuse_operations, fsync)
P_FIELD(fuse_operations, setxattr)
P_FIELD(fuse_operations, getxattr)
P_FIELD(fuse_operations, listxattr)
P_FIELD(fuse_operations, removexattr)
P_FIELD(fuse_operations, opendir)
P_FIELD(fuse_operations, readdir)
P_FIELD(fuse_operations, releasedir)
P_FIELD(fuse_operations, fsyncdir)
P_FIELD(fuse_operations, init)
P_FIELD(fuse_operations, destroy)
P_FIELD(fuse_operations, access)
P_FIELD(fuse_operations, create)
P_FIELD(fuse_operations, lock)
P_FIELD(fuse_operations, utimens)
P_FIELD(fuse_operations, bmap)
P_FIELD(fuse_operations, ioctl)
P_FIELD(fuse_operations, poll)
P_FIELD(fuse_operations, write_buf)
P_FIELD(fuse_operations, read_buf)
P_FIELD(fuse_operations, flock)
P_FIELD(fuse_operations, fallocate)
P_FIELD(fuse_operations, copy_file_range)
P_FIELD(fuse_operations, lseek)
#if PROBE_NEW
P_FIELD(fuse_operations, statx)
#endif
