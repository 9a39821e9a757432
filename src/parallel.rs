//! Work spread over the thread pool, kept in input order.

/// `f` over `items`, in parallel when there are enough to pay for the
/// threads (a small project runs on the calling thread), in input order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    if items.len() < PARALLEL_FROM {
        items.iter().map(f).collect()
    } else {
        items.par_iter().map(f).collect()
    }
}

/// [`par_map`] taking the items by value.
pub fn par_map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    if items.len() < PARALLEL_FROM {
        items.into_iter().map(f).collect()
    } else {
        items.into_par_iter().map(f).collect()
    }
}

/// Below this many items, work stays on one thread: starting the pool
/// costs more than a few files or configs take.
pub const PARALLEL_FROM: usize = 16;
