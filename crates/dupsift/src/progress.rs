//! What a running scan tells another thread: the stage it is in, bytes and documents done,
//! and each stage's wall and CPU time once it is over; and what another thread tells the
//! scan: to stop ([`Progress::cancel`]). Only atomics and one short lock, so a progress bar or
//! a Python callback can poll it at any time. This module must not print.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

/// What the scan is doing, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// Reading, hashing and signing documents.
    Reading = 0,
    /// Re-reading candidate documents and verifying pairs.
    Verifying = 1,
    /// Building clusters.
    Clustering = 2,
    /// Aligning repeated passages.
    Passages = 3,
    /// Reading back what the report shows (previews, line numbers).
    Finishing = 4,
}

/// Counters a scan updates as it goes; another thread may read them at any time.
#[derive(Debug, Default)]
pub struct Progress {
    /// Raw input bytes read so far in the current pass.
    pub bytes: AtomicU64,
    /// Bytes the current pass will read in all (0 when unknown).
    pub total: AtomicU64,
    /// Documents processed so far in the current pass.
    pub docs: AtomicU64,
    stage: AtomicU8,
    cancelled: AtomicBool,
    marks: std::sync::Mutex<Vec<(Stage, std::time::Instant, Option<std::time::Duration>)>>,
}

/// A stage's wall time and, where the platform tells, the CPU time the process spent in it
/// (all threads): their ratio is how many cores the stage kept busy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StageTime {
    /// The stage.
    pub stage: Stage,
    /// Wall-clock time.
    pub wall: std::time::Duration,
    /// User + system CPU time of the whole process.
    pub cpu: Option<std::time::Duration>,
}

/// CPU time of this process so far (user + system, all threads), where `/proc` tells it.
fn process_cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it are space-separated.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // Linux reports these in USER_HZ, 100 on every architecture it supports.
    Some(std::time::Duration::from_millis((utime + stime) * 10))
}

impl Progress {
    /// Asks the scan to stop: it returns [`ScanError::Cancelled`](crate::error::ScanError)
    /// at its next checkpoint (between batches and chunks of documents, and between passes),
    /// without writing anything. How an embedding host (a Python interpreter told Ctrl-C)
    /// interrupts a run, since nothing in the engine may end the process.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`Progress::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// The current stage.
    pub fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Relaxed) {
            0 => Stage::Reading,
            1 => Stage::Verifying,
            2 => Stage::Clustering,
            3 => Stage::Passages,
            _ => Stage::Finishing,
        }
    }

    /// How long each stage took, in order (complete once the scan has returned).
    pub fn stage_times(&self) -> Vec<StageTime> {
        let marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        marks
            .windows(2)
            .map(|w| StageTime {
                stage: w[0].0,
                wall: w[1].1 - w[0].1,
                cpu: w[1].2.zip(w[0].2).map(|(b, a)| b.saturating_sub(a)),
            })
            .collect()
    }

    pub(crate) fn mark(&self, stage: Stage) {
        let mut marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        marks.push((stage, std::time::Instant::now(), process_cpu_time()));
    }

    pub(crate) fn enter(&self, stage: Stage, total: u64) {
        self.mark(stage);
        self.bytes.store(0, Ordering::Relaxed);
        self.docs.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.stage.store(stage as u8, Ordering::Relaxed);
    }
}
