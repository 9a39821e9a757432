//! Work counters: how many files a run read, how many paths went to the
//! kernel's realpath, and how many lookups linking made. They let a test
//! check that the work grows linearly with the repository (no timing
//! involved); relaxed atomics, so their cost is nil.

use std::sync::atomic::{AtomicU64, Ordering};

static FILES_READ: AtomicU64 = AtomicU64::new(0);
static REALPATHS: AtomicU64 = AtomicU64::new(0);
static LINK_STEPS: AtomicU64 = AtomicU64::new(0);

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Files opened and read (configs, context files, includes).
    pub files_read: u64,
    /// Paths resolved by `std::fs::canonicalize` (not from the cache).
    pub realpaths: u64,
    /// Index lookups and candidates looked at while linking.
    pub link_steps: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            files_read: self.files_read - o.files_read,
            realpaths: self.realpaths - o.realpaths,
            link_steps: self.link_steps - o.link_steps,
        }
    }
}

pub fn snapshot() -> Counts {
    Counts {
        files_read: FILES_READ.load(Ordering::Relaxed),
        realpaths: REALPATHS.load(Ordering::Relaxed),
        link_steps: LINK_STEPS.load(Ordering::Relaxed),
    }
}

pub(crate) fn file_read() {
    FILES_READ.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn realpath() {
    REALPATHS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn link_steps(n: usize) {
    LINK_STEPS.fetch_add(n as u64, Ordering::Relaxed);
}
