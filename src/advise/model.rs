//! The memory model of one memory-limited unit (memory-model.md), shared by
//! UW202 and `advise`:
//! `M = processes × P + master + extra processes + co-located Nginx`.

use crate::model::IniContext;

/// What shares the limit besides the workers, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overhead {
    pub master: u64,
    /// The `http` router (16 MiB) and each mule/spooler (a baseline each).
    pub extra: u64,
    /// Nginx in the same container: its workers and master.
    pub nginx: u64,
    pub nginx_workers: u64,
}

impl Overhead {
    pub fn total(&self) -> u64 {
        self.master + self.extra + self.nginx
    }
}

/// The overhead of the unit a context describes.
pub fn overhead(ctx: &IniContext) -> Overhead {
    let baseline = ctx.memory.baseline_rss_bytes;
    let mut extra = if ctx.last("http").is_some() {
        16 << 20
    } else {
        0
    };
    // Each mule and the spooler are processes with the app loaded.
    let mules = ctx.resolved.all("mule").count() as u64 + ctx.number("mules").unwrap_or(0);
    let spooler = u64::from(ctx.last("spooler").is_some());
    extra += (mules + spooler) * baseline;
    let (nginx_workers, nginx) = match ctx
        .deployment
        .and_then(|d| d.nginx_colocated.as_ref().map(|_| d))
    {
        Some(dep) => {
            let workers = ctx
                .nginx
                .iter()
                .filter_map(|i| ctx.project.project.nginx.get(*i))
                .map(|n| match n.model.worker_processes.value {
                    crate::nginx::model::WorkerProcesses::Count(c) => u64::from(c.max(1)),
                    crate::nginx::model::WorkerProcesses::Auto => dep
                        .container
                        .cpus
                        .as_ref()
                        .map_or(1, |c| c.value.ceil().max(1.0) as u64),
                })
                .max()
                .unwrap_or(1);
            (workers, workers * ctx.memory.nginx_worker_bytes + (8 << 20))
        }
        None => (0, 0),
    };
    Overhead {
        master: ctx.memory.master_bytes,
        extra,
        nginx,
        nginx_workers,
    }
}

/// The step between workers' recycling thresholds (`max-requests-delta`,
/// `max-worker-lifetime-delta`): worker i recycles at base + (i − 1) × step,
/// the thresholds spread over half the base value (memory-model.md §6/§7).
pub fn stagger(base: u64, processes: u64) -> u64 {
    if processes < 2 {
        return 0;
    }
    (base / 2 / (processes - 1)).max(1)
}

/// The worst case of the unit.
pub fn worst_case(processes: u64, per_worker: u64, overhead: &Overhead) -> u64 {
    processes
        .saturating_mul(per_worker)
        .saturating_add(overhead.total())
}

/// What the workers may use together: the limit less headroom and overhead.
pub fn available(limit: u64, headroom: f64, overhead: &Overhead) -> u64 {
    ((limit as f64 * (1.0 - headroom)) as u64).saturating_sub(overhead.total())
}

/// Memory of the unit after `n` requests per worker, for a worker cap of
/// `cap` bytes (0: no cap) that recycles at `max_requests` (0: never):
/// each worker grows from `baseline` by `growth` per request and starts over
/// when it passes a cap. The projection `--plot` draws.
pub fn projected(
    n: u64,
    processes: u64,
    baseline: u64,
    growth: f64,
    cap: u64,
    max_requests: u64,
    overhead: &Overhead,
) -> u64 {
    let mut served = n;
    if max_requests > 0 {
        served %= max_requests;
    }
    let mut rss = baseline as f64 + growth * served as f64;
    if cap > 0 && growth > 0.0 && rss > cap as f64 {
        // Recycled each time it crosses the cap (after the request).
        let per_life = ((cap as f64 - baseline as f64) / growth).floor().max(0.0) + 1.0;
        let within = (served as f64) % per_life;
        rss = baseline as f64 + growth * within;
    }
    worst_case(processes, rss as u64, overhead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_case_and_available() {
        let o = Overhead {
            master: 16 << 20,
            extra: 0,
            nginx: 40 << 20,
            nginx_workers: 2,
        };
        assert_eq!(worst_case(4, 512 << 20, &o), (2048 + 56) << 20);
        assert_eq!(
            available(1 << 30, 0.1, &o),
            ((1u64 << 30) as f64 * 0.9) as u64 - (56 << 20)
        );
        assert_eq!(available(10 << 20, 0.1, &o), 0);
    }

    #[test]
    fn projection_recycles() {
        let o = Overhead::default();
        // 100 MiB + 1 MiB/request, cap 150 MiB: never above 151 MiB.
        for n in 0..1000 {
            let m = projected(n, 1, 100 << 20, (1 << 20) as f64, 150 << 20, 0, &o);
            assert!(m <= 151 << 20, "{n}: {m}");
        }
        // Without a cap it grows without bound; max-requests bounds it.
        assert_eq!(projected(1000, 1, 0, 1.0, 0, 0, &o), 1000);
        assert_eq!(projected(1000, 1, 0, 1.0, 0, 300, &o), 100);
    }
}
