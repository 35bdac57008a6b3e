//! Every function the library exports, called with NULL, out-of-range or made-up arguments
//! where the C API lets a caller pass them (tests/c/exports_null.c, built against our headers):
//! each must return its documented error value (or do nothing), log instead of crashing, and
//! never abort or unwind into C. The list of exports is read from the built library, so a new
//! export without a call here fails the test.

mod common;

use common::cbuild::{Pc, STRICT, fuse3_flags, gcc};
use common::{repo_root, run, run_ok, scratch_dir, target_profile_dir};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(120);

/// Exports that take no pointer, handle or count a caller could get wrong, and that print to
/// stdout or fork: not called.
const NOT_CALLED: &[(&str, &str)] = &[
    ("fuse_cmdline_help", "no arguments; prints the option help"),
    ("fuse_lowlevel_help", "no arguments; prints the option help"),
    ("fuse_lowlevel_version", "no arguments; prints the protocol version"),
    ("fuse_daemonize", "an int; forks the test program"),
    ("fuse_daemonize_early_start", "an int of flags; forks the test program"),
];

/// What each call returns: 0/-1/-errno/NULL as the header documents for a refused argument,
/// up to the calls on request handles.
const EXPECTED_BEFORE: &str = r#"fuse_opt_parse(NULL, NULL, NULL, NULL): 0
fuse_opt_parse(NULL, NULL, table, NULL): 0
fuse_opt_add_opt(NULL, "a"): -1
fuse_opt_add_opt(&list, NULL): -1
fuse_opt_add_opt_escaped(NULL, "a"): -1
fuse_opt_add_opt_escaped(&list, NULL): -1
list after NULL options: (null)
fuse_opt_add_arg(NULL, "a"): -1
fuse_opt_add_arg(&args, NULL): -1
fuse_opt_insert_arg(NULL, 0, "a"): -1
fuse_opt_insert_arg(&args, 5, "a"): -1
fuse_opt_insert_arg(&args, -1, "a"): -1
fuse_opt_insert_arg(&args, 0, NULL): -1
argc after refused calls: 1
fuse_opt_free_args(NULL): survived
fuse_opt_match(NULL, "x"): 0
fuse_opt_match(table, NULL): 0
fuse_parse_cmdline(NULL, &o): -1
fuse_parse_cmdline(&args, NULL): -1
parse_default(NULL, &o): -1
parse_312(&args, NULL): -1
fuse_parse_cmdline_30(NULL, &o): -1
fuse_parse_cmdline_30(&args, NULL): -1
new30(NULL, &ops, sizeof(ops), NULL): NULL
fuse_session_new_versioned(NULL, &ops, sizeof(ops), &v, NULL): NULL
fuse_session_new_versioned(NULL, &ops, sizeof(ops), NULL, NULL): NULL
fuse_session_custom_io_317(NULL, NULL, 0, 3): -22
custom_io_30(NULL, NULL, 3): -22
custom_io_default(NULL, NULL, 0, -1): -22
fuse_session_mount(NULL, "/nonexistent"): -1
fuse_session_unmount(NULL): survived
fuse_session_fd(NULL): -1
fuse_session_exit(NULL): survived
fuse_session_reset(NULL): survived
fuse_session_exited(NULL): 1
fuse_session_set_debug(NULL): survived
fuse_session_start_teardown_watchdog(NULL, 5, NULL, NULL): NULL
fuse_session_stop_teardown_watchdog(NULL): survived
fuse_session_stop_teardown_watchdog((void *)GARBAGE): survived
fuse_session_loop(NULL): -22
loop_mt_312(NULL, NULL): -22
loop_mt_32(NULL, NULL): -22
loop_mt_31(NULL, 0): -22
loop_mt_default(NULL, NULL): -22
loop_mt_30(NULL, 0): -22
fuse_session_receive_buf(NULL, NULL): -22
fuse_session_process_buf(NULL, NULL): survived
fuse_session_destroy(NULL): survived
fuse_session_set_sync_init(NULL, true): survived
fuse_conn_is_sync_init(NULL): 0
fuse_set_signal_handlers(NULL): 0
fuse_set_fail_signal_handlers(NULL): 0
fuse_remove_signal_handlers(NULL): survived
fuse_open_channel(NULL, "rw"): -1
fuse_open_channel("/nonexistent/mnt", NULL): -1
se: pointer
fuse_session_start_teardown_watchdog(se, 5, NULL, NULL): NULL
fuse_session_start_teardown_watchdog(se, 0, NULL, NULL): NULL
fuse_session_start_teardown_watchdog(se, -1, NULL, NULL): NULL
fuse_service_accept(NULL): -22
fuse_service_accept(&sf): 0
sf: NULL
fuse_service_can_allow_other(NULL): 0
fuse_service_can_fuseblk(NULL): 0
fuse_service_release(NULL): survived
fuse_service_destroy(NULL): survived
fuse_service_destroy(&sf): survived
sf: NULL
fuse_service_append_args(NULL, NULL): -95
fuse_service_cmdline(0, NULL, NULL): NULL
fuse_service_parse_cmdline_opts(NULL, NULL): -1
fuse_service_request_file(NULL, NULL, 0, 0, 0): -95
fuse_service_request_blockdev(NULL, NULL, 0, 0, 0, 0): -95
fuse_service_receive_file(NULL, "x", &fd): -95
fd: -1
fuse_service_receive_file(NULL, NULL, NULL): -95
fuse_service_finish_file_requests(NULL): -95
fuse_service_expect_mount_format(NULL, S_IFREG): survived
fuse_service_session_mount(NULL, NULL, S_IFDIR, NULL): -95
fuse_service_send_goodbye(NULL, 0): -95
fuse_service_exit(3): 3
((service_main_t)sym("fuse_service_main_real_versioned", NULL))(NULL, NULL, NULL, 0, NULL, NULL): 1
fuse_lowlevel_notify_poll(NULL): 0
fuse_lowlevel_notify_inval_inode(NULL, 1, 0, 0): -22
fuse_lowlevel_notify_increment_epoch(NULL): -22
fuse_lowlevel_notify_inval_entry(NULL, 1, "x", 1): -22
fuse_lowlevel_notify_expire_entry(NULL, 1, "x", 1): -22
fuse_lowlevel_notify_delete(NULL, 1, 2, "x", 1): -22
fuse_lowlevel_notify_store(NULL, 1, 0, NULL, 0): -22
fuse_lowlevel_notify_retrieve(NULL, 1, 10, 0, NULL): -22
fuse_lowlevel_notify_prune(NULL, ids, 2): -22
fuse_pollhandle_destroy(NULL): survived
"#;

/// The request handles exports_null.c passes in turn (a header line `-- request H` each).
const REQUEST_HANDLES: [&str; 2] = ["NULL", "0x1234"];

/// What each call on a request handle returns, the same in every round.
const EXPECTED_PER_REQUEST: &str = r#"fuse_reply_err(r, ENOENT): -22
fuse_reply_none(r): survived
fuse_reply_entry(r, &e): -22
fuse_reply_entry(r, NULL): -22
fuse_reply_create(r, &e, &fi): -22
fuse_reply_create(r, NULL, NULL): -22
fuse_reply_attr(r, &st, 1.0): -22
fuse_reply_attr(r, NULL, 1.0): -22
fuse_reply_readlink(r, "t"): -22
fuse_reply_readlink(r, NULL): -22
fuse_reply_open(r, &fi): -22
fuse_reply_open(r, NULL): -22
fuse_reply_write(r, 1): -22
fuse_reply_buf(r, "x", 1): -22
fuse_reply_buf(r, NULL, 100): -22
fuse_reply_data(r, &bv, 0): -22
fuse_reply_data(r, NULL, 0): -22
fuse_reply_iov(r, &iov, 1): -22
fuse_reply_iov(r, NULL, 5): -22
fuse_reply_iov(r, &iov, -1): -22
fuse_reply_statfs(r, &sv): -22
fuse_reply_statfs(r, NULL): -22
fuse_reply_xattr(r, 1): -22
fuse_reply_lock(r, &fl): -22
fuse_reply_lock(r, NULL): -22
fuse_reply_bmap(r, 1): -22
fuse_reply_ioctl_retry(r, NULL, 1, NULL, 1): -22
fuse_reply_ioctl(r, 0, NULL, 10): -22
fuse_reply_ioctl_iov(r, 0, NULL, 3): -22
fuse_reply_poll(r, 1): -22
fuse_reply_lseek(r, 1): -22
fuse_reply_statx(r, 0, &sx, 1.0): -22
fuse_reply_statx(r, 0, NULL, 1.0): -22
fuse_req_userdata(r): NULL
fuse_req_ctx(r): NULL
fuse_req_getgroups(r, 0, NULL): -22
fuse_req_interrupt_func(r, NULL, NULL): survived
fuse_req_interrupted(r): 0
fuse_req_is_uring(r): 0
fuse_req_get_payload(r, NULL, NULL, NULL): -22
fuse_req_secctx_count(r): 0
fuse_req_secctx_reset(r): survived
fuse_req_secctx_next(r, NULL, NULL, NULL): -22
fuse_passthrough_open(r, -1): 0
fuse_passthrough_close(r, 1): -1
fuse_add_direntry(r, NULL, 0, NULL, NULL, 0): 0
fuse_add_direntry_plus(r, NULL, 0, NULL, NULL, 0): 0
"#;

/// What the calls after the request rounds return.
const EXPECTED_AFTER: &str = r#"fuse_loop_cfg_destroy(NULL): survived
fuse_loop_cfg_set_idle_threads(NULL, 1): survived
fuse_loop_cfg_set_max_threads(NULL, 1): survived
fuse_loop_cfg_set_clone_fd(NULL, 1): survived
fuse_loop_cfg_convert(NULL, NULL): survived
cfg: pointer
fuse_loop_cfg_convert(cfg, NULL): survived
fuse_loop_cfg_set_max_threads(cfg, 0): survived
fuse_set_feature_flag(NULL, FUSE_CAP_ASYNC_READ): 0
fuse_unset_feature_flag(NULL, FUSE_CAP_ASYNC_READ): survived
fuse_get_feature_flag(NULL, FUSE_CAP_ASYNC_READ): 0
fuse_set_conn_flag(NULL, FUSE_CONN_FLAG_NO_INTERRUPT): 0
fuse_convert_to_conn_want_ext(NULL): -22
fuse_buf_size(NULL): 0
fuse_buf_copy(NULL, NULL, 0): -22
fuse_set_log_func(NULL): survived
fuse_log(FUSE_LOG_DEBUG, "%s", "a debug line nobody sees\n"): survived
fuse_log_enable_syslog(NULL, 0, 0): survived
fuse_log_close_syslog(): survived
fuse_daemonize_early_is_active(): 0
fuse_daemonize_early_success(): survived
fuse_daemonize_early_fail(EIO): survived
fuse_version(): 319
fuse_pkgversion(): pointer
((new5_t)sym("fuse_new", "FUSE_3.0"))(NULL, NULL, 0, NULL, NULL): NULL
((new5_t)sym("fuse_new", "FUSE_3.1"))(NULL, NULL, 0, NULL, NULL): NULL
((new5_t)sym("fuse_new_30", NULL))(NULL, NULL, 0, NULL, NULL): NULL
((new5_t)sym("fuse_new_31", NULL))(NULL, NULL, 0, NULL, NULL): NULL
((new5_t)sym("_fuse_new", "FUSE_3.0"))(NULL, NULL, 0, NULL, NULL): NULL
((new5_t)sym("_fuse_new_30", NULL))(NULL, NULL, 0, NULL, NULL): NULL
((new5_t)sym("_fuse_new_31", NULL))(NULL, NULL, 0, NULL, NULL): NULL
fuse_main_real(0, NULL, NULL, 0, NULL): 1
((main6_t)sym("fuse_main_real_versioned", NULL))(0, NULL, NULL, 0, NULL, NULL): 1
fuse_mount(NULL, "/nonexistent"): -1
fuse_unmount(NULL): survived
fuse_exit(NULL): survived
fuse_destroy(NULL): survived
fuse_loop(NULL): -1
fuse_loop_mt(NULL, NULL): -1
((loop_t)sym("fuse_loop_mt_31", NULL))(NULL, NULL): -1
((loop_t)sym("fuse_loop_mt_32", NULL))(NULL, NULL): -1
((loop_t)sym("fuse_loop_mt_312", NULL))(NULL, NULL): -1
fuse_get_session(NULL): NULL
fuse_get_context(): NULL
fuse_getgroups(0, NULL): -22
fuse_interrupted(): 0
fuse_invalidate_path(NULL, "/x"): -22
fuse_notify_poll(NULL): 0
fuse_start_cleanup_thread(NULL): -1
fuse_stop_cleanup_thread(NULL): survived
fuse_clean_cache(NULL): -1
fuse_lib_help(NULL): survived
fuse_parse_conn_info_opts(NULL): NULL
fuse_apply_conn_info_opts(NULL, &conn): survived
fuse_apply_conn_info_opts(NULL, NULL): survived
fuse_fs_new(NULL, 0, NULL): NULL
fuse_fs_getattr(NULL, "/", &st, NULL): -22
fuse_fs_rename(NULL, "/a", "/b", 0): -22
fuse_fs_unlink(NULL, "/a"): -22
fuse_fs_rmdir(NULL, "/a"): -22
fuse_fs_symlink(NULL, "t", "/a"): -22
fuse_fs_link(NULL, "/a", "/b"): -22
fuse_fs_release(NULL, "/a", NULL): -22
fuse_fs_open(NULL, "/a", NULL): -22
fuse_fs_read(NULL, "/a", buf, sizeof(buf), 0, NULL): -22
fuse_fs_read_buf(NULL, "/a", &bufp, 1, 0, NULL): -22
fuse_fs_write(NULL, "/a", buf, sizeof(buf), 0, NULL): -22
fuse_fs_write_buf(NULL, "/a", NULL, 0, NULL): -22
fuse_fs_fsync(NULL, "/a", 0, NULL): -22
fuse_fs_flush(NULL, "/a", NULL): -22
fuse_fs_statfs(NULL, "/", &sv): -22
fuse_fs_opendir(NULL, "/", NULL): -22
fuse_fs_readdir(NULL, "/", NULL, NULL, 0, NULL, 0): -22
fuse_fs_fsyncdir(NULL, "/", 0, NULL): -22
fuse_fs_releasedir(NULL, "/", NULL): -22
fuse_fs_create(NULL, "/a", 0644, NULL): -22
fuse_fs_lock(NULL, "/a", NULL, 0, NULL): -22
fuse_fs_flock(NULL, "/a", NULL, 0): -22
fuse_fs_chmod(NULL, "/a", 0644, NULL): -22
fuse_fs_chown(NULL, "/a", 0, 0, NULL): -22
fuse_fs_truncate(NULL, "/a", 0, NULL): -22
fuse_fs_utimens(NULL, "/a", tv, NULL): -22
fuse_fs_access(NULL, "/a", 0): -22
fuse_fs_readlink(NULL, "/a", buf, sizeof(buf)): -22
fuse_fs_mknod(NULL, "/a", 0644, 0): -22
fuse_fs_mkdir(NULL, "/a", 0755): -22
fuse_fs_setxattr(NULL, "/a", "user.x", "v", 1, 0): -22
fuse_fs_getxattr(NULL, "/a", "user.x", buf, sizeof(buf)): -22
fuse_fs_listxattr(NULL, "/a", buf, sizeof(buf)): -22
fuse_fs_removexattr(NULL, "/a", "user.x"): -22
fuse_fs_bmap(NULL, "/a", 512, &idx): -22
fuse_fs_ioctl(NULL, "/a", 0, NULL, NULL, 0, NULL): -22
fuse_fs_poll(NULL, "/a", NULL, NULL, &revents): -22
fuse_fs_fallocate(NULL, "/a", 0, 0, 1, NULL): -22
fuse_fs_copy_file_range(NULL, "/a", NULL, 0, "/b", NULL, 0, 1, 0): -22
fuse_fs_lseek(NULL, "/a", 0, SEEK_SET, NULL): -22
fuse_fs_statx(NULL, "/a", 0, 0, NULL, NULL): -22
fuse_fs_init(NULL, &conn, NULL): survived
fuse_fs_destroy(NULL): survived
new30(&args, NULL, &clop, NULL): NULL
new30(&args, &ci, NULL, NULL): NULL
new30(&args, &holes, &clop, NULL): NULL
new30(&args, &no_argv, &clop, NULL): NULL
new30(NULL, &ci, &clop, NULL): NULL
cuse_lowlevel_new_319(&args, &ci, &clop, sizeof(clop), NULL, NULL): NULL
cuse_lowlevel_new_319(&args, NULL, &clop, sizeof(clop), &v, NULL): NULL
setup30(1, argv, &ci, &clop, NULL, NULL): NULL
setup30(0, NULL, &ci, &clop, &mt, NULL): NULL
setup30(1, argv, NULL, &clop, &mt, NULL): NULL
cuse_lowlevel_setup_319(1, argv, &ci, &clop, sizeof(clop), NULL, &mt, NULL): NULL
main30(0, NULL, &ci, &clop, NULL): 1
main30(1, argv, &ci, NULL, NULL): 1
cuse_lowlevel_main_319(1, argv, &ci, &clop, sizeof(clop), NULL, NULL): 1
cuse_lowlevel_teardown(NULL): survived
done
"#;

/// The whole expected output: the calls before, a round per request handle, the calls after.
fn expected() -> String {
    let mut text = String::from(EXPECTED_BEFORE);
    for handle in REQUEST_HANDLES {
        text.push_str(&format!("-- request {handle}\n{EXPECTED_PER_REQUEST}"));
    }
    text + EXPECTED_AFTER
}

/// The functions the built library exports (any version), by name.
fn exported_functions() -> Vec<String> {
    let lib = target_profile_dir().join("libfuse3.so");
    let ran = run_ok(Command::new("nm").args(["-D", "--defined-only"]).arg(&lib), T).unwrap();
    let mut names: Vec<String> = ran
        .stdout
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[1] == "T").then(|| f[2].split('@').next().unwrap().to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_export_refuses_null_and_garbage() {
    let dir = scratch_dir("exports");
    let src = repo_root().join("tests/c/exports_null.c");
    let prog = dir.join("exports_null");
    let flags = fuse3_flags(Pc::Ours).unwrap();
    gcc(STRICT, &src, &prog, flags.iter().map(String::as_str).chain(["-ldl"])).unwrap();

    let ran = run(Command::new(&prog).env("LD_LIBRARY_PATH", target_profile_dir()), T).unwrap();
    assert!(ran.ok(), "crashed or failed: {} \nstderr:\n{}", ran.status, ran.stderr);
    assert!(!ran.stderr.contains("internal error"), "a panic was caught:\n{}", ran.stderr);
    let expected = expected();
    let (got, want): (Vec<&str>, Vec<&str>) =
        (ran.stdout.lines().collect(), expected.lines().collect());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "line {} (left what ran, right documented)", i + 1);
    }
    assert_eq!(got.len(), want.len(), "{}", ran.stdout);
    // Each of the 40 calls on a request handle per round logs its refusal once.
    assert_eq!(
        ran.stderr.matches("request already answered or not a request").count(),
        REQUEST_HANDLES.len() * 40,
        "{}",
        ran.stderr
    );

    // Every export is called (directly, or through dlsym for the names the headers hide).
    let text = std::fs::read_to_string(&src).unwrap();
    let exports = exported_functions();
    assert!(exports.len() > 100, "nm found only {} functions", exports.len());
    let mut missing = Vec::new();
    for name in &exports {
        if NOT_CALLED.iter().any(|(n, _)| n == name) {
            continue;
        }
        if !text.contains(&format!("{name}(")) && !text.contains(&format!("\"{name}\"")) {
            missing.push(name.clone());
        }
    }
    assert!(missing.is_empty(), "exports never called by exports_null.c: {missing:?}");
    for (n, _) in NOT_CALLED {
        assert!(exports.iter().any(|e| e == n), "{n} is no export: drop it from NOT_CALLED");
    }
}
