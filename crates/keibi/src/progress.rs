//! A progress bar on stderr for long inputs, drawn only when stderr is a terminal
//! (nothing extra when piped or redirected).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish before a bar would help.
const MIN_BYTES: u64 = 32 * 1024 * 1024;

/// Tracks bytes read against a known total; hides itself when not useful.
pub struct Progress {
    bar: Option<ProgressBar>,
    stop: Arc<AtomicU64>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts a bar for `total` bytes fed by `counter`, if stderr is a terminal.
    pub fn start(total: u64, counter: Arc<AtomicU64>, quiet: bool) -> Self {
        let stop = Arc::new(AtomicU64::new(0));
        if quiet || total < MIN_BYTES || !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                stop,
                ticker: None,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {wide_bar}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let (b, s) = (bar.clone(), stop.clone());
        let ticker = std::thread::spawn(move || {
            while s.load(Ordering::Relaxed) == 0 {
                b.set_position(counter.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Progress {
            bar: Some(bar),
            stop,
            ticker: Some(ticker),
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(mut self) {
        self.stop.store(1, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
