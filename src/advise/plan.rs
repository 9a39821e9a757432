//! The plan `advise` prints (memory-model.md, "Advice"): recycling values
//! that fit the unit's limit, each with its current value, a reason, and
//! where every input came from.

use serde::Serialize;

use super::measure::Estimates;
use super::model::{self, Overhead};
use crate::model::IniContext;
use crate::nginx::model::PassKind;
use crate::uwsgi::options::catalogue;

const MIB: u64 = 1 << 20;

/// Where a number came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The uWSGI config (with its container's arguments and environment).
    Config,
    /// The container or Nginx around it.
    Container,
    /// Measured (memory-report logs, stats).
    Measured,
    /// A command-line flag.
    Flag,
    /// A default assumption (a setting changes it).
    Default,
    /// Derived by the model from the others.
    Computed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Input {
    pub name: &'static str,
    pub value: String,
    pub source: Source,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub option: &'static str,
    pub current: Option<String>,
    pub value: String,
    pub reason: String,
    pub source: Source,
}

impl Plan {
    /// The advised value of `option`, if the plan has one.
    pub fn value(&self, option: &str) -> Option<String> {
        self.recommendations
            .iter()
            .find(|r| r.option == option)
            .map(|r| r.value.clone())
    }
}

impl Recommendation {
    /// Does applying it change the config? (Writing down an unset
    /// option's default changes nothing.)
    pub fn changes(&self) -> bool {
        match &self.current {
            Some(c) => c != &self.value,
            None => catalogue()
                .get(self.option)
                .and_then(|d| d.default_value())
                .is_none_or(|d| d.to_string() != self.value),
        }
    }
}

/// The numbers behind the plan, for `--plot`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Curve {
    pub processes: u64,
    /// Per-worker cap in bytes (0: none).
    pub cap: u64,
    pub max_requests: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub limit_bytes: Option<u64>,
    pub inputs: Vec<Input>,
    pub recommendations: Vec<Recommendation>,
    /// What cannot be reconciled (the limit is too small, mercy vs grace).
    pub problems: Vec<String>,
    #[serde(skip)]
    pub overhead: Overhead,
    #[serde(skip)]
    pub baseline: u64,
    #[serde(skip)]
    pub growth: f64,
    #[serde(skip)]
    pub now: Curve,
    #[serde(skip)]
    pub advised: Curve,
}

/// Values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub memory_limit: Option<u64>,
    pub cpus: Option<f64>,
}

/// A number rounded to two significant digits (1234 → 1200).
pub fn readable(n: f64) -> u64 {
    if n < 100.0 {
        return n.round().max(0.0) as u64;
    }
    let mag = 10f64.powi(n.log10().floor() as i32 - 1);
    ((n / mag).round() * mag) as u64
}

fn mib(b: u64) -> u64 {
    b / MIB
}

struct Builder<'a> {
    ctx: &'a IniContext<'a>,
    plan: Plan,
}

impl Builder<'_> {
    fn input(
        &mut self,
        name: &'static str,
        value: String,
        source: Source,
        note: impl Into<String>,
    ) {
        self.plan.inputs.push(Input {
            name,
            value,
            source,
            note: note.into(),
        });
    }

    fn current(&self, option: &str) -> Option<String> {
        self.ctx
            .last(option)
            .map(|e| e.value_str().trim().to_string())
    }

    /// Recommend `option = value` if the target uWSGI has the option.
    fn recommend(
        &mut self,
        option: &'static str,
        value: impl ToString,
        source: Source,
        reason: impl Into<String>,
    ) {
        let Some(def) = catalogue().get(option) else {
            return;
        };
        if def.since().is_some_and(|v| v > self.ctx.target) {
            return;
        }
        let current = self.current(option);
        self.plan.recommendations.push(Recommendation {
            option,
            current,
            value: value.to_string(),
            reason: reason.into(),
            source,
        });
    }
}

/// The plan for one config as its container runs it.
pub fn plan(ctx: &IniContext, est: Option<&Estimates>, given: &Given) -> Plan {
    let mut b = Builder {
        ctx,
        plan: Plan::default(),
    };
    let dep = ctx.deployment;
    let headroom = ctx.memory.headroom;
    let overhead = model::overhead(ctx);

    // Inputs, each with its source.
    let limit = match (given.memory_limit, dep.and_then(|d| d.limit())) {
        (Some(l), _) => Some((l, Source::Flag, "--memory-limit".to_string())),
        (None, Some(l)) => Some((l.bytes.0, Source::Container, l.explanation.clone())),
        (None, None) => None,
    };
    match &limit {
        Some((l, src, why)) => b.input(
            "memory limit",
            format!("{} MiB", mib(*l)),
            *src,
            why.clone(),
        ),
        None => b.input(
            "memory limit",
            "none".into(),
            Source::Default,
            "no hard limit found: give --memory-limit",
        ),
    }
    let cpus = given.cpus.map(|c| (c, Source::Flag)).or_else(|| {
        dep.and_then(|d| {
            d.container
                .cpus
                .as_ref()
                .map(|c| (c.value, Source::Container))
        })
    });
    if let Some((c, src)) = cpus {
        b.input("CPUs", format!("{c}"), src, "");
    }
    let (baseline, bsrc) = match est.and_then(|e| e.baseline) {
        Some(v) => (v, Source::Measured),
        None => (ctx.memory.baseline_rss_bytes, Source::Default),
    };
    b.input(
        "worker baseline RSS",
        format!("{} MiB", mib(baseline)),
        bsrc,
        if bsrc == Source::Default {
            "`[memory] baseline-rss`"
        } else {
            "median RSS after the first request"
        },
    );
    let growth = est.and_then(|e| e.growth);
    match growth {
        Some(g) => b.input(
            "growth per request",
            format!("{:.1} KiB", g / 1024.0),
            Source::Measured,
            "Theil–Sen slope of RSS over requests",
        ),
        None => b.input(
            "growth per request",
            "unknown".into(),
            Source::Default,
            "no measurements: `--log` or `--stats`",
        ),
    }
    let jump = est.and_then(|e| e.jump).unwrap_or(0);
    if est.and_then(|e| e.jump).is_some() {
        b.input(
            "largest one-request jump (p99)",
            format!("{:.1} MiB", jump as f64 / MIB as f64),
            Source::Measured,
            "",
        );
    }
    let rate = est.and_then(|e| e.rate);
    if let Some(r) = rate {
        b.input(
            "requests per second per worker",
            format!("{r:.2}"),
            Source::Measured,
            "",
        );
    }
    b.input(
        "master and other processes",
        format!("{} MiB", mib(overhead.total())),
        Source::Default,
        format!(
            "master {} MiB (`[memory] master`){}{}",
            mib(overhead.master),
            if overhead.extra > 0 {
                format!(", router/mules/spooler {} MiB", mib(overhead.extra))
            } else {
                String::new()
            },
            if overhead.nginx > 0 {
                format!(
                    ", Nginx in the container ({} workers) {} MiB",
                    overhead.nginx_workers,
                    mib(overhead.nginx)
                )
            } else {
                String::new()
            }
        ),
    );
    b.plan.limit_bytes = limit.as_ref().map(|l| l.0);
    b.plan.overhead = overhead;
    b.plan.baseline = baseline;
    b.plan.growth = growth.unwrap_or(0.0);

    // The current curve, for the plot.
    let current_processes = ctx.last("processes").and(ctx.number("processes"));
    let cap_now = ctx
        .number("evil-reload-on-rss")
        .filter(|v| *v > 0 && ctx.last("evil-reload-on-rss").is_some())
        .or_else(|| {
            ctx.number("reload-on-rss")
                .filter(|v| *v > 0 && ctx.last("reload-on-rss").is_some())
        })
        .unwrap_or(0);
    b.plan.now = Curve {
        processes: current_processes.unwrap_or(1).max(1),
        cap: cap_now,
        max_requests: ctx.number("max-requests").unwrap_or(0),
    };

    // 1–4: processes and the per-worker caps.
    let cpu_want = cpus.map(|(c, _)| ((2.0 * c).ceil() as u64).max(2));
    let (processes, reload, evil) = match &limit {
        Some((l, _, _)) => {
            let a = model::available(*l, headroom, &overhead);
            let fits = |p: u64| {
                let per = a / p.max(1);
                let reload = (0.85 * per as f64).min(per.saturating_sub(jump) as f64) as u64;
                reload as f64 >= 1.2 * baseline as f64
            };
            let max_fit = (a as f64 / (1.5 * baseline as f64)).floor() as u64;
            if max_fit == 0 {
                b.plan.problems.push(format!(
                    "the limit cannot hold even one worker: {} MiB less {}% headroom and {} MiB for the master and other processes leaves {} MiB, and one worker needs about {} MiB (1.5 × its baseline); raise the limit",
                    mib(*l),
                    (headroom * 100.0).round(),
                    mib(overhead.total()),
                    mib(a),
                    mib((1.5 * baseline as f64) as u64)
                ));
                (None, None, None)
            } else {
                let (p, why, src) = match current_processes {
                    Some(p) if p > 0 && fits(p) => (
                        p,
                        "the configured count fits the limit".to_string(),
                        Source::Config,
                    ),
                    cur => {
                        let want = cpu_want.or(cur).unwrap_or(2);
                        let p = want.min(max_fit).max(1);
                        let why = match cur {
                            Some(c) => format!(
                                "{c} workers cannot each get 1.2 × their baseline under the limit; {p} can"
                            ),
                            None => format!(
                                "2 × CPUs, at most what the limit holds at 1.5 × baseline each ({max_fit})"
                            ),
                        };
                        (p, why, Source::Computed)
                    }
                };
                b.recommend("processes", p, src, why);
                let per = a / p;
                let evil = per / MIB;
                let reload =
                    ((0.85 * per as f64).min(per.saturating_sub(jump) as f64) as u64) / MIB;
                if (reload * MIB) as f64 > 0.0 && ((reload * MIB) as f64) < 1.2 * baseline as f64 {
                    b.plan.problems.push(format!(
                        "`reload-on-rss = {reload}` is below 1.2 × the baseline ({} MiB): workers would recycle right after starting; raise the limit",
                        mib(baseline)
                    ));
                }
                (Some(p), Some(reload), Some(evil))
            }
        }
        None => {
            b.plan.problems.push("no hard memory limit found, so no cap can be derived from it: give `--memory-limit`".into());
            let p = current_processes.or(cpu_want).unwrap_or(2);
            b.recommend(
                "processes",
                p,
                if current_processes.is_some() {
                    Source::Config
                } else {
                    Source::Default
                },
                "no limit to size it against",
            );
            // A cap relative to the app itself still stops runaway growth.
            let reload = mib(2 * baseline).max(1);
            (Some(p), Some(reload), None)
        }
    };
    if let Some(evil) = evil {
        b.recommend("evil-reload-on-rss", evil, Source::Computed, format!("the hard cap: {} workers × {evil} MiB + {} MiB fit the limit less {}% headroom; the master kills a worker above it", processes.unwrap_or(1), mib(overhead.total()), (headroom * 100.0).round()));
    }
    if let Some(reload) = reload {
        let why = if limit.is_some() {
            format!(
                "85% of the per-worker share{}: recycled after the request that crosses it",
                if jump > 0 {
                    " (and one measured jump below it)"
                } else {
                    ""
                }
            )
        } else {
            "twice the baseline (no limit to size it against)".to_string()
        };
        b.recommend(
            "reload-on-rss",
            reload,
            if limit.is_some() {
                Source::Computed
            } else {
                Source::Default
            },
            why,
        );
    }

    // 5–6: recycling by request count.
    let p = processes.unwrap_or(1).max(1);
    let reload_bytes = reload.map_or(0, |r| r * MIB);
    let (mut max_requests, mr_src, mr_why) = match growth {
        Some(g) if g >= 1024.0 && reload_bytes > baseline => {
            let n = (reload_bytes - baseline) as f64 / g;
            let v = readable((0.8 * n).clamp(100.0, 100_000.0));
            (
                v,
                Source::Computed,
                format!(
                    "a worker grows {:.0} KiB per request, so it reaches reload-on-rss after about {:.0} requests; recycle at 80% of that",
                    g / 1024.0,
                    n
                ),
            )
        }
        Some(_) => (
            10_000,
            Source::Measured,
            "no growth measured: recycle rarely, for slow leaks the samples did not show"
                .to_string(),
        ),
        None => (
            1000,
            Source::Default,
            "heuristic (nothing measured): a common starting point".to_string(),
        ),
    };
    let delta_ok = catalogue()
        .get("max-requests-delta")
        .and_then(|d| d.since())
        .is_none_or(|v| v <= ctx.target);
    let mut delta = 0;
    if p > 1 && delta_ok {
        // Spread the thresholds over half of max-requests; with a measured
        // growth, the last worker's threshold must still fit.
        for _ in 0..20 {
            delta = readable(model::stagger(max_requests, p) as f64).max(1);
            let last = max_requests + (p - 1) * delta;
            match growth {
                Some(g)
                    if g >= 1024.0
                        && baseline as f64 + g * last as f64 > reload_bytes as f64
                        && max_requests > 100 =>
                {
                    max_requests = readable(max_requests as f64 * 0.9).max(100);
                }
                _ => break,
            }
        }
    }
    b.recommend("max-requests", max_requests, mr_src, mr_why);
    if p > 1 && delta_ok {
        b.recommend("max-requests-delta", delta, Source::Computed, format!("worker i recycles at max-requests + (i−1) × {delta}: the {p} workers do not restart together"));
    }

    // 7: recycling by age.
    // A worker younger than `min-worker-lifetime` (default 10 s) is not
    // recycled by reload-on-rss, max-requests or its age (facts §5): at the
    // measured pace it must not outgrow the slack between the caps first.
    let configured_min = ctx.number("min-worker-lifetime").unwrap_or(10);
    let slack = evil.map_or(0, |e| e * MIB).saturating_sub(reload_bytes);
    let min_life = match (growth, rate) {
        (Some(g), Some(r)) if g * r > 0.0 && slack > 0 => {
            let secs = (slack as f64 / (g * r)).floor() as u64;
            secs.clamp(1, configured_min)
        }
        _ => configured_min,
    };
    let min_life_src = if min_life < configured_min {
        Source::Computed
    } else if ctx.last("min-worker-lifetime").is_some() {
        Source::Config
    } else {
        Source::Default
    };
    let min_life_why = if min_life < configured_min {
        format!(
            "workers grow {:.1} MiB/s at the measured pace; younger than this they are not recycled, so they must not outgrow the {} MiB between reload-on-rss and evil-reload-on-rss first",
            growth.unwrap_or(0.0) * rate.unwrap_or(0.0) / MIB as f64,
            slack / MIB
        )
    } else {
        "below max-worker-lifetime (uWSGI refuses to start otherwise)".to_string()
    };
    let (mut lifetime, life_src, life_why) = match rate {
        Some(r) if r > 0.0 => {
            let v = readable((2.0 * max_requests as f64 / r).clamp(600.0, 86_400.0));
            (
                v,
                Source::Computed,
                format!("twice the time a worker takes to serve max-requests at {r:.2} requests/s"),
            )
        }
        _ => (
            3600,
            Source::Default,
            "heuristic: an hour bounds leaks that requests do not show".to_string(),
        ),
    };
    if lifetime <= min_life {
        lifetime = min_life + 60;
    }
    b.recommend("max-worker-lifetime", lifetime, life_src, life_why);
    b.recommend("min-worker-lifetime", min_life, min_life_src, min_life_why);
    if p > 1 {
        let d = readable(model::stagger(lifetime, p) as f64).max(1);
        b.recommend(
            "max-worker-lifetime-delta",
            d,
            Source::Computed,
            "spreads the workers' ages",
        );
    }

    // 9: harakiri against the proxy in front.
    let mine = ctx.sockets();
    let front = ctx
        .fronts()
        .iter()
        .filter(|f| ctx.reached_socket(f, &mine).is_some())
        .filter_map(|f| {
            let s = match f.pass.kind {
                PassKind::Uwsgi => &f.location.uwsgi_read_timeout,
                PassKind::Proxy => &f.location.proxy_read_timeout,
            };
            (!s.unknown).then_some(s.value.as_secs())
        })
        .min();
    let current_harakiri = ctx
        .number("harakiri")
        .filter(|h| *h > 0 && ctx.last("harakiri").is_some());
    let harakiri = match (front, current_harakiri) {
        (Some(f), Some(h)) if h < f => {
            b.recommend(
                "harakiri",
                h,
                Source::Config,
                format!("below the proxy's {f} s read timeout"),
            );
            h
        }
        (Some(f), _) => {
            let h = f.saturating_sub(5).max(1);
            b.recommend("harakiri", h, Source::Computed, format!("5 s below the proxy's {f} s read timeout, so uWSGI frees the worker before the client gets a 504"));
            h
        }
        (None, Some(h)) => {
            b.recommend(
                "harakiri",
                h,
                Source::Config,
                "no proxy timeout found to compare with",
            );
            h
        }
        (None, None) => {
            b.recommend("harakiri", 60, Source::Default, "Nginx's default read timeout is 60 s; set it a little below the real front timeout");
            60
        }
    };

    // 8: how long a recycled or stopping worker may take.
    let grace = dep.map(|d| d.container.grace_seconds());
    let mercy = match grace {
        Some(g) if harakiri + 5 > g => {
            b.plan.problems.push(format!(
                "a request may run {harakiri} s (harakiri), but the container is killed {g} s after SIGTERM: raise the stop grace period above {} s or lower harakiri",
                harakiri + 5
            ));
            g.saturating_sub(5).max(1)
        }
        Some(g) => harakiri.max(g.saturating_sub(5).min(harakiri)),
        None => harakiri,
    };
    b.recommend("worker-reload-mercy", mercy, Source::Computed, match grace {
        Some(g) => format!("at least the longest request (harakiri {harakiri} s), within the container's {g} s stop grace period less 5 s"),
        None => format!("at least the longest request (harakiri {harakiri} s)"),
    });

    // 10: the non-numeric musts.
    if !ctx.master_on() {
        b.recommend(
            "master",
            "true",
            Source::Default,
            "recycling and harakiri need the master",
        );
    }
    let is_2_0 = ctx.target.major == 2 && ctx.target.minor == 0;
    // The stop that loses nothing: the graceful hook (die-on-term cuts the
    // requests in flight). Only where no other master-start hook would be
    // replaced by the edit.
    if is_2_0
        && dep.is_some()
        && !ctx.graceful_stop_hooked()
        && ctx.resolved.all("hook-master-start").next().is_none()
    {
        b.recommend(
            "hook-master-start",
            crate::model::GRACEFUL_STOP_HOOK,
            Source::Default,
            "uWSGI 2.0 reloads on SIGTERM; this hook makes it stop and lets in-flight requests finish (die-on-term would cut them)",
        );
    }
    if is_2_0 && !ctx.flag("need-app") {
        b.recommend(
            "need-app",
            "true",
            Source::Default,
            "fail at start when the app cannot be imported",
        );
    }
    // Only where every key is an option: strict refuses to start otherwise.
    let all_known = ctx.resolved.entries.iter().all(|e| {
        e.def().is_some() || e.placeholder_only || ctx.resolved.declared.contains(&e.key_str())
    });
    if !ctx.resolved.strict && all_known {
        b.recommend(
            "strict",
            "true",
            Source::Default,
            "misspelled options fail at start instead of being ignored",
        );
    }
    let behind_uwsgi_pass = ctx
        .fronts()
        .iter()
        .any(|f| f.pass.kind == PassKind::Uwsgi && ctx.reached_socket(f, &mine).is_some());
    if behind_uwsgi_pass && ctx.number("buffer-size").unwrap_or(4096) < 32768 {
        b.recommend(
            "buffer-size",
            32768,
            Source::Container,
            "Nginx passes request headers up to 4 × 8k",
        );
    }
    if let Some(s) = dep.and_then(|d| d.container.somaxconn.as_ref())
        && ctx.number("listen").unwrap_or(100) > s.value
    {
        b.recommend(
            "listen",
            s.value,
            Source::Container,
            "the container's net.core.somaxconn",
        );
    }

    b.plan.advised = Curve {
        processes: p,
        cap: evil.or(reload).map_or(0, |m| m * MIB),
        max_requests,
    };
    b.plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_numbers() {
        assert_eq!(readable(1234.0), 1200);
        assert_eq!(readable(87.4), 87);
        assert_eq!(readable(99_999.0), 100_000);
        assert_eq!(readable(0.0), 0);
    }
}
