//! Running the engine from Python: on a thread of its own, in a pool of the threads asked for,
//! with the GIL released so that other Python threads run meanwhile, and the interpreter's
//! signals checked every few milliseconds so that Ctrl-C cancels the scan
//! ([`Progress::cancel`]) and raises `KeyboardInterrupt` once the engine has stopped.
//!
//! A panic of the engine is caught here and raised as `dupsift.Error`: it must not take the
//! interpreter down.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use dupsift::Progress;
use pyo3::prelude::*;

use crate::errors::{Kind, error};

/// How often the waiting thread looks at the interpreter's signals.
const POLL: Duration = Duration::from_millis(50);

/// Runs `work` in a pool of `threads` threads (0: one per core) with the GIL released, and
/// returns what it returns. Ctrl-C (any pending signal whose handler raises) cancels it through
/// `progress`; the exception is raised once `work` has returned.
pub fn detached<T: Send>(
    py: Python<'_>,
    threads: usize,
    progress: &Progress,
    work: impl FnOnce(&Progress) -> T + Send,
) -> PyResult<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("dupsift-{i}"))
        .build()
        .map_err(|e| error(Kind::Engine, format!("starting the thread pool: {e}")))?;
    let (tx, rx) = channel();
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let out = catch_unwind(AssertUnwindSafe(|| pool.install(|| work(progress))));
            // The receiver waits until this is sent (or the thread is gone).
            let _ = tx.send(out);
        });
        // One release of the GIL for the whole wait, taken again only to look at signals.
        let (out, interrupted) = py.detach(move || {
            let mut interrupted: Option<PyErr> = None;
            loop {
                match rx.recv_timeout(POLL) {
                    Ok(out) => return (out, interrupted),
                    Err(RecvTimeoutError::Timeout) => {
                        if interrupted.is_none()
                            && let Err(e) = Python::attach(|py| py.check_signals())
                        {
                            progress.cancel();
                            interrupted = Some(e);
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        let gone: Box<dyn std::any::Any + Send> =
                            Box::new("the engine's thread stopped");
                        return (Err(gone), interrupted);
                    }
                }
            }
        });
        // Panics were caught inside the thread, so joining cannot fail.
        let _ = worker.join();
        if let Some(e) = interrupted {
            return Err(e);
        }
        out.map_err(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".to_owned());
            error(
                Kind::Engine,
                format!("internal error in the dupsift engine (please report it): {what}"),
            )
        })
    })
}
