//! The allocator: mimalloc, tuned to give memory back quickly.
//!
//! Events are parsed on worker threads and freed on the thread that writes or
//! detects them. glibc's malloc serialises those cross-thread frees on the parsing
//! thread's arena lock: on 1 GB of PostgreSQL logs `keibi events` spent a quarter of
//! its time waking threads blocked on that lock, and ran at 126% CPU. mimalloc frees
//! a foreign block with one atomic push, which halved wall time (13.0 s -> 6.4 s) and
//! let the two threads overlap (165% CPU); see benches/events.sh.
//!
//! mimalloc v3 holds freed pages for a second before returning them to the OS; with
//! hourly files parsed by short-lived threads that grew peak RSS with input size
//! (88 MB on 1 GB). A 10 ms purge delay keeps it flat (58 MB) for 1-3% of wall time.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (the same index in v2 and v3); the Rust
/// binding names only the options common to every version.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds before freed memory goes back to the OS.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets the allocator's options; call first thing in `main`. A `MIMALLOC_PURGE_DELAY`
/// environment variable still wins, for measuring.
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores an integer in mimalloc's option table;
        // the index is a valid option in the bundled mimalloc (checked by the test).
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Index 15 must be `purge_delay`: a child process started with
    /// `MIMALLOC_PURGE_DELAY` must read that value back through it.
    #[test]
    fn option_index_is_purge_delay() {
        if let Some(want) = std::env::var_os("KEIBI_ALLOC_CHILD") {
            // SAFETY: reading an option is always sound.
            let got = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
            assert_eq!(got.to_string(), want.to_string_lossy());
            return;
        }
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "alloc::tests::option_index_is_purge_delay"])
            .env("KEIBI_ALLOC_CHILD", "4321")
            .env("MIMALLOC_PURGE_DELAY", "4321")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "option 15 is not purge_delay in this mimalloc"
        );
    }

    #[test]
    fn configure_sets_the_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        configure();
        // SAFETY: reading an option is always sound.
        let got = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(got, PURGE_DELAY_MS);
    }
}
