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

/// Why an advised value is what it is: the advice table's last word on
/// whether to trust it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Derived from measurements of the app.
    Measured,
    /// Required by a limit: the memory or CPU limit, the proxy's timeout,
    /// the way the container stops, a rule of uWSGI itself.
    Limit,
    /// A rule of thumb, only for what the config leaves unset.
    Heuristic,
    /// The config's own value: nothing measured or limiting contradicts it.
    Kept,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Measured => "measured",
            Basis::Limit => "limit",
            Basis::Heuristic => "heuristic",
            Basis::Kept => "kept",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub option: &'static str,
    pub current: Option<String>,
    pub value: String,
    pub reason: String,
    pub basis: Basis,
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

    /// The value as written in its file (before magic variables), if a
    /// file sets the option.
    fn written(&self, option: &str) -> Option<String> {
        let e = self.ctx.last(option)?;
        let (file, _, span) = self.ctx.spans(e)?;
        let bytes = &self.ctx.sources.get(file).bytes;
        Some(String::from_utf8_lossy(bytes.get(span.range())?).into_owned())
    }

    /// Recommend `option = value` if the target uWSGI has the option.
    fn recommend(
        &mut self,
        option: &'static str,
        value: impl ToString,
        basis: Basis,
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
            basis,
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

    // 1–4: processes and the per-worker caps. A value the config sets is
    // kept unless a limit or a measurement says it is wrong; a rule of
    // thumb fills only what is unset.
    let cpu_want = cpus.map(|(c, _)| ((2.0 * c).ceil() as u64).max(2));
    // `%k` is the host's CPU count, not the container's.
    let host_cpus = b.written("processes").is_some_and(|w| w.contains("%k"));
    // The count to start from, and how to say where it came from.
    let (start, start_basis, start_why): (u64, Option<Basis>, String) = if host_cpus {
        match cpu_want {
            Some(w) => (
                w,
                Some(Basis::Limit),
                format!(
                    "`%k` counts the host's CPUs ({}), not the container's: 2 × its {} CPUs",
                    current_processes.unwrap_or(0),
                    cpus.map_or(0.0, |c| c.0)
                ),
            ),
            None => {
                b.plan.problems.push(format!(
                    "`processes = %k` counts the host's CPUs ({} here), not the container's, and no CPU limit was found: give `--cpus` for a number that fits",
                    current_processes.unwrap_or(0)
                ));
                (current_processes.unwrap_or(2).max(1), None, String::new())
            }
        }
    } else {
        match current_processes {
            Some(c) if c > 0 => (c, Some(Basis::Kept), "the configured count".to_string()),
            _ => match cpu_want {
                Some(w) => (w, Some(Basis::Heuristic), "2 × CPUs".to_string()),
                None => (
                    2,
                    Some(Basis::Heuristic),
                    "two workers (no CPU count known)".to_string(),
                ),
            },
        }
    };
    let (processes, reload, evil) = match &limit {
        Some((l, _, _)) => {
            let a = model::available(*l, headroom, &overhead);
            let reload_of =
                |per: u64| (0.85 * per as f64).min(per.saturating_sub(jump) as f64) as u64;
            let fits = |p: u64| reload_of(a / p.max(1)) as f64 >= 1.2 * baseline as f64;
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
                let p = if fits(start) {
                    if let Some(basis) = start_basis {
                        let why = match basis {
                            Basis::Kept => format!(
                                "{start_why}: each worker gets 1.2 × its baseline under the limit"
                            ),
                            _ => format!("{start_why}; it fits the limit"),
                        };
                        b.recommend("processes", start, basis, why);
                    }
                    start
                } else {
                    let p = start.min(max_fit).max(1);
                    b.recommend(
                        "processes",
                        p,
                        Basis::Limit,
                        format!(
                            "{start} workers ({start_why}) cannot each get 1.2 × their baseline under the limit; {p} can (at most {max_fit} at 1.5 × baseline)"
                        ),
                    );
                    p
                };
                let per = a / p;
                let evil_c = per / MIB;
                // A cap the config sets stays while it fits the share.
                let kept = |name: &str, hi: u64| {
                    ctx.last(name)
                        .and(ctx.number(name))
                        .map(|v| v / MIB)
                        .filter(|v| {
                            *v > 0 && *v <= hi && (*v * MIB) as f64 >= 1.2 * baseline as f64
                        })
                };
                let evil = match kept("evil-reload-on-rss", evil_c) {
                    Some(v) => {
                        b.recommend(
                            "evil-reload-on-rss",
                            v,
                            Basis::Kept,
                            format!("within the per-worker share of the limit ({evil_c} MiB)"),
                        );
                        v
                    }
                    None => {
                        b.recommend("evil-reload-on-rss", evil_c, Basis::Limit, format!("the hard cap: {p} workers × {evil_c} MiB + {} MiB fit the limit less {}% headroom; the master kills a worker above it", mib(overhead.total()), (headroom * 100.0).round()));
                        evil_c
                    }
                };
                let reload_c = reload_of(if evil == evil_c { per } else { evil * MIB }) / MIB;
                let reload = match kept("reload-on-rss", reload_c) {
                    Some(v) if v < evil => {
                        b.recommend(
                            "reload-on-rss",
                            v,
                            Basis::Kept,
                            format!("below evil-reload-on-rss, within the share ({reload_c} MiB)"),
                        );
                        v
                    }
                    _ => {
                        b.recommend(
                            "reload-on-rss",
                            reload_c,
                            if jump > 0 { Basis::Measured } else { Basis::Limit },
                            format!(
                                "85% of the per-worker share{}: recycled after the request that crosses it",
                                if jump > 0 {
                                    " (and one measured jump below it)"
                                } else {
                                    ""
                                }
                            ),
                        );
                        reload_c
                    }
                };
                if ((reload * MIB) as f64) < 1.2 * baseline as f64 {
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
            if let Some(basis) = start_basis {
                b.recommend(
                    "processes",
                    start,
                    basis,
                    format!("{start_why} (no memory limit to size it against)"),
                );
            }
            // A cap relative to the app itself still stops runaway growth.
            let reload = match ctx
                .last("reload-on-rss")
                .and(ctx.number("reload-on-rss"))
                .filter(|v| *v > 0)
            {
                Some(v) => {
                    b.recommend(
                        "reload-on-rss",
                        v / MIB,
                        Basis::Kept,
                        "no memory limit to size it against",
                    );
                    v / MIB
                }
                None => {
                    let r = mib(2 * baseline).max(1);
                    b.recommend(
                        "reload-on-rss",
                        r,
                        Basis::Heuristic,
                        "twice the baseline (no limit to size it against)",
                    );
                    r
                }
            };
            let evil = ctx
                .last("evil-reload-on-rss")
                .and(ctx.number("evil-reload-on-rss"))
                .map(|v| v / MIB)
                .filter(|v| *v > 0);
            (Some(start), Some(reload), evil)
        }
    };

    // 5–6: recycling by request count.
    let p = processes.unwrap_or(1).max(1);
    let reload_bytes = reload.map_or(0, |r| r * MIB);
    let configured_mr = ctx
        .last("max-requests")
        .and(ctx.number("max-requests"))
        .filter(|v| *v > 0);
    // With a measured growth: the requests a worker takes from its baseline
    // to reload-on-rss.
    let to_cap = growth
        .filter(|g| *g >= 1024.0 && reload_bytes > baseline)
        .map(|g| (reload_bytes - baseline) as f64 / g);
    let (mut max_requests, mr_basis, mr_why) = match (configured_mr, to_cap, growth) {
        (Some(c), Some(n), _) if (c as f64) <= 0.8 * n => (
            c,
            Basis::Kept,
            format!(
                "below the {n:.0} requests a worker takes to reach reload-on-rss at the measured growth"
            ),
        ),
        (_, Some(n), Some(g)) => (
            readable((0.8 * n).clamp(100.0, 100_000.0)),
            Basis::Measured,
            format!(
                "a worker grows {:.0} KiB per request, so it reaches reload-on-rss after about {n:.0} requests; recycle at 80% of that{}",
                g / 1024.0,
                if 0.8 * n < 100.0 {
                    " (at least 100: reload-on-rss recycles sooner)"
                } else if 0.8 * n > 100_000.0 {
                    " (at most 100000)"
                } else {
                    ""
                }
            ),
        ),
        (Some(c), _, _) => (
            c,
            Basis::Kept,
            if growth.is_some() {
                "no growth measured that contradicts it".to_string()
            } else {
                "nothing measured contradicts it".to_string()
            },
        ),
        (None, _, Some(_)) => (
            10_000,
            Basis::Measured,
            "no growth measured: recycle rarely, for slow leaks the samples did not show"
                .to_string(),
        ),
        (None, _, None) => (
            1000,
            Basis::Heuristic,
            "nothing measured: a common starting point".to_string(),
        ),
    };
    let delta_ok = catalogue()
        .get("max-requests-delta")
        .and_then(|d| d.since())
        .is_none_or(|v| v <= ctx.target);
    let configured_delta = ctx
        .last("max-requests-delta")
        .and(ctx.number("max-requests-delta"));
    // Does the last worker's threshold still fit under reload-on-rss?
    let last_fits = |mr: u64, d: u64| to_cap.is_none_or(|n| (mr + (p - 1) * d) as f64 <= n);
    let mut delta = 0;
    let mut delta_basis = Basis::Heuristic;
    if p > 1 && delta_ok {
        match configured_delta {
            Some(d) if last_fits(max_requests, d) => {
                delta = d;
                delta_basis = Basis::Kept;
            }
            _ => {
                // Spread the thresholds over half of max-requests; with a
                // measured growth, the last worker's threshold must still fit.
                for _ in 0..20 {
                    delta = readable(model::stagger(max_requests, p) as f64).max(1);
                    if last_fits(max_requests, delta) {
                        break;
                    }
                    delta_basis = Basis::Measured;
                    if mr_basis == Basis::Kept || max_requests <= 100 {
                        // Keep the configured count: narrow the spread instead.
                        let room = to_cap.map_or(0.0, |n| n - max_requests as f64).max(0.0);
                        delta = ((room / (p - 1) as f64).floor() as u64).max(1);
                        break;
                    }
                    max_requests = readable(max_requests as f64 * 0.9).max(100);
                }
            }
        }
    }
    b.recommend("max-requests", max_requests, mr_basis, mr_why);
    if p > 1 && delta_ok {
        b.recommend("max-requests-delta", delta, delta_basis, format!("worker i recycles at max-requests + (i−1) × {delta}: the {p} workers do not restart together"));
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
    let configured_life = ctx
        .last("max-worker-lifetime")
        .and(ctx.number("max-worker-lifetime"))
        .filter(|v| *v > 0);
    let (mut lifetime, mut life_basis, mut life_why) = match (configured_life, rate) {
        (Some(l), _) => (
            l,
            Basis::Kept,
            "nothing measured contradicts it".to_string(),
        ),
        (None, Some(r)) if r > 0.0 => (
            readable((2.0 * max_requests as f64 / r).clamp(600.0, 86_400.0)),
            Basis::Measured,
            format!("twice the time a worker takes to serve max-requests at {r:.2} requests/s"),
        ),
        _ => (
            3600,
            Basis::Heuristic,
            "nothing measured: an hour bounds leaks that requests do not show".to_string(),
        ),
    };
    if lifetime <= min_life {
        lifetime = min_life + 60;
        life_basis = Basis::Limit;
        life_why =
            format!("above min-worker-lifetime ({min_life} s): uWSGI refuses to start otherwise");
    }
    b.recommend("max-worker-lifetime", lifetime, life_basis, life_why);
    // Advised only when it changes: the default (or the configured value)
    // is otherwise right, and advice that is never written is noise.
    if min_life < configured_min {
        b.recommend(
            "min-worker-lifetime",
            min_life,
            Basis::Measured,
            format!(
                "workers grow {:.1} MiB/s at the measured pace; younger than this they are not recycled, so they must not outgrow the {} MiB between reload-on-rss and evil-reload-on-rss first",
                growth.unwrap_or(0.0) * rate.unwrap_or(0.0) / MIB as f64,
                slack / MIB
            ),
        );
    }
    if p > 1 {
        match ctx
            .last("max-worker-lifetime-delta")
            .and(ctx.number("max-worker-lifetime-delta"))
        {
            Some(d) => b.recommend(
                "max-worker-lifetime-delta",
                d,
                Basis::Kept,
                "spreads the workers' ages",
            ),
            None => {
                let d = readable(model::stagger(lifetime, p) as f64).max(1);
                b.recommend(
                    "max-worker-lifetime-delta",
                    d,
                    Basis::Heuristic,
                    "spreads the workers' ages",
                );
            }
        }
    }

    // 9: harakiri against the proxy in front.
    let mine = ctx.sockets();
    // Every front in one shape: Nginx's read timeout, an ALB's idle
    // timeout, an Ingress's or Traefik's (the shortest wins).
    let fronts = ctx.front_timeouts();
    let nearest = fronts
        .iter()
        .filter_map(|f| Some((f.timeout.as_ref()?.value, f)))
        .min_by_key(|(t, f)| (*t, !f.nginx));
    let front = nearest.map(|(t, _)| t);
    // How the advice names it: Nginx as before, the others by name.
    let named = |t: u64| match nearest {
        Some((_, f)) if !f.nginx => format!("the {t} s timeout of {}", f.who),
        _ => format!("the proxy's {t} s read timeout"),
    };
    let current_harakiri = ctx
        .number("harakiri")
        .filter(|h| *h > 0 && ctx.last("harakiri").is_some());
    let harakiri = match (front, current_harakiri) {
        // Equal timeouts fire in the same second (as UW301 reads them).
        (Some(f), Some(h)) if h <= f => {
            b.recommend(
                "harakiri",
                h,
                Basis::Kept,
                format!("not above {}", named(f)),
            );
            h
        }
        (Some(f), _) => {
            let h = f.saturating_sub(5).max(1);
            b.recommend(
                "harakiri",
                h,
                Basis::Limit,
                format!(
                    "5 s below {}, so uWSGI frees the worker before the client gets a 504",
                    named(f)
                ),
            );
            h
        }
        (None, Some(h)) => {
            b.recommend(
                "harakiri",
                h,
                Basis::Kept,
                "no proxy timeout found to compare with",
            );
            h
        }
        (None, None) => {
            b.recommend("harakiri", 60, Basis::Heuristic, "Nginx's default read timeout is 60 s; set it a little below the real front timeout");
            60
        }
    };

    // 8: how long a worker being recycled may finish its request. In uWSGI
    // 2.0 `worker-reload-mercy` bounds recycling (age, reload-on-rss,
    // max-requests) and graceful reloads, not the graceful stop: during
    // the stop the master waits for each worker in turn and enforces
    // neither the mercy nor harakiri (tests/oracle_runtime.rs). On 2.1 the
    // stop is bounded by it, so it must fit the grace period (UW304).
    let grace = dep.map(|d| d.grace_seconds());
    let is_2_0 = ctx.target.major == 2 && ctx.target.minor == 0;
    let mercy_now = ctx.number("worker-reload-mercy").unwrap_or(60);
    let mercy_set = ctx.last("worker-reload-mercy").is_some();
    let within_grace = |m: u64| is_2_0 || grace.is_none_or(|g| m <= g);
    let recycle_why = format!(
        "a worker being recycled (age, memory, request count) gets this long to finish its request: at least harakiri ({harakiri} s)"
    );
    if mercy_now >= harakiri && within_grace(mercy_now) {
        if mercy_set {
            b.recommend(
                "worker-reload-mercy",
                mercy_now,
                Basis::Kept,
                recycle_why.clone(),
            );
        }
    } else {
        let m = match grace {
            Some(g) if !is_2_0 => harakiri.max(1).min(g.saturating_sub(5).max(1)),
            _ => harakiri.max(1),
        };
        b.recommend(
            "worker-reload-mercy",
            m,
            Basis::Limit,
            match grace {
                Some(g) if !is_2_0 => format!(
                    "{recycle_why}; on uWSGI ≥ 2.1 it also bounds the stop, so within the container's {g} s stop grace period less 5 s"
                ),
                _ => recycle_why.clone(),
            },
        );
    }
    if let Some(g) = grace
        && harakiri + 5 > g
    {
        b.plan.problems.push(if is_2_0 {
            format!(
                "a request may run {harakiri} s (harakiri), but the container is SIGKILLed {g} s after SIGTERM: the graceful stop waits for the request (in uWSGI 2.0 neither harakiri nor worker-reload-mercy bounds that wait), so a request still running then is cut; raise the stop grace period above {} s",
                harakiri + 5
            )
        } else {
            format!(
                "a request may run {harakiri} s (harakiri), but the container is killed {g} s after SIGTERM: raise the stop grace period above {} s or lower harakiri",
                harakiri + 5
            )
        });
    }

    // 10: the non-numeric musts.
    if !ctx.master_on() {
        b.recommend(
            "master",
            "true",
            Basis::Limit,
            "recycling and harakiri need the master",
        );
    }
    // The stop that loses nothing (UW303, UW308): the graceful hook;
    // `die-on-term` would cut the requests in flight. A new line beside any
    // other master-start hook (the option is a list).
    if is_2_0 && dep.is_some() && !ctx.graceful_stop_hooked() {
        b.recommend(
            "hook-master-start",
            crate::model::GRACEFUL_STOP_HOOK,
            Basis::Limit,
            format!(
                "{} stops uWSGI with SIGTERM, which uWSGI 2.0 takes as a reload; this hook makes it stop and lets each worker finish its request first (`die-on-term` would cut them{})",
                dep.map_or("the container".to_string(), |d| d.container.who()),
                grace.map_or(String::new(), |g| format!("; a request longer than the {g} s grace period is still cut by SIGKILL"))
            ),
        );
    }
    if is_2_0 && !ctx.flag("need-app") {
        b.recommend(
            "need-app",
            "true",
            Basis::Heuristic,
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
            Basis::Heuristic,
            "misspelled options fail at start instead of being ignored",
        );
    }
    let behind_uwsgi_pass = ctx
        .fronts()
        .iter()
        .any(|f| f.pass.kind == PassKind::Uwsgi && ctx.reached_socket(f, mine).is_some());
    if behind_uwsgi_pass && ctx.number("buffer-size").unwrap_or(4096) < 32768 {
        b.recommend(
            "buffer-size",
            32768,
            Basis::Limit,
            "Nginx passes request headers up to 4 × 8k",
        );
    }
    if let Some(s) = dep.and_then(|d| d.container.somaxconn.as_ref())
        && ctx.number("listen").unwrap_or(100) > s.value
    {
        b.recommend(
            "listen",
            s.value,
            Basis::Limit,
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
