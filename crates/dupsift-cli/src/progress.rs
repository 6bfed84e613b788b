//! How a run looks on a terminal while it works: the thread pool of `--threads`, the progress
//! bar on standard error (for runs that last more than a second), and the `--timings` line.
//!
//! This module shows what the library's `Progress` counters say; it must not change what a
//! run does or finds.

use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use dupsift::{Progress, Stage};

/// Runs `work` in a thread pool of `threads` threads (0: one per core), with the progress bar
/// unless `quiet` or standard error is not a terminal.
pub fn with_pool_and_bar<T: Send>(
    threads: usize,
    quiet: bool,
    progress: &Arc<Progress>,
    work: impl FnOnce(&Progress) -> T + Send,
) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting the thread pool")?;
    let bar = ProgressThread::start(progress.clone(), !quiet && io::stderr().is_terminal());
    let result = pool.install(|| work(progress));
    bar.finish();
    Ok(result)
}

/// Prints how long each stage took, and how many cores it kept busy (`--timings`).
pub fn print_timings(progress: &Progress) {
    let times: Vec<String> = progress
        .stage_times()
        .iter()
        .map(|t| {
            let wall = t.wall.as_secs_f64();
            match t.cpu {
                // Cores kept busy: what a stage gains from more threads.
                Some(cpu) if wall >= 0.05 => format!(
                    "{} {wall:.2} s ({:.1} cores)",
                    stage_name(t.stage),
                    cpu.as_secs_f64() / wall
                ),
                _ => format!("{} {wall:.2} s", stage_name(t.stage)),
            }
        })
        .collect();
    eprintln!(
        "dupsift: {} (MinHash kernel {})",
        times.join(", "),
        dupsift::minhash::MinHasher::kernel_name()
    );
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Reading => "reading",
        Stage::Verifying => "verifying",
        Stage::Clustering => "clustering",
        Stage::Passages => "passages",
        Stage::Finishing => "finishing",
    }
}

/// Draws a progress bar on stderr for runs that last more than a second.
struct ProgressThread {
    done: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ProgressThread {
    fn start(progress: Arc<Progress>, enabled: bool) -> ProgressThread {
        let done = Arc::new(AtomicBool::new(false));
        if !enabled {
            return ProgressThread { done, handle: None };
        }
        let flag = done.clone();
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            let mut bar: Option<indicatif::ProgressBar> = None;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if started.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let b = bar.get_or_insert_with(|| {
                    let b = indicatif::ProgressBar::new(0).with_elapsed(started.elapsed());
                    b.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{prefix:>10} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} {msg} ({elapsed})",
                        )
                        .expect("valid template")
                        .progress_chars("=> "),
                    );
                    b
                });
                let stage = progress.stage();
                match progress.total.load(Ordering::Relaxed) {
                    0 => b.unset_length(),
                    total => b.set_length(total),
                }
                b.set_position(progress.bytes.load(Ordering::Relaxed));
                // The prefix last: each setter may redraw, and the stage must match the figures.
                b.set_message(format!("{} docs", progress.docs.load(Ordering::Relaxed)));
                b.set_prefix(stage_name(stage));
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        ProgressThread {
            done,
            handle: Some(handle),
        }
    }

    fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
