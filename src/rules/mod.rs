//! The rule registry: code ↔ name ↔ default severity ↔ check function.
//!
//! A rule is a pure function of parsed and resolved data; it never does I/O.
//! A panic inside one is caught and reported as an internal error, and the
//! other rules still run.

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, Span};

pub mod container;
pub mod front_timeout;
pub mod fronts;
pub mod hardening;
pub mod inputs;
pub mod lifecycle;
pub mod memory;
pub mod proxy;
pub mod values;

pub use crate::model::{IniContext, ProjectContext};

/// What a rule sees: the model of one config, and what rules derive from it
/// once for all of them.
pub struct RuleContext<'a> {
    pub ini: &'a IniContext<'a>,
    /// The advice (UW202, UW203 and UW204 all use it).
    advice: std::cell::OnceCell<crate::advise::plan::Plan>,
}

impl<'a> RuleContext<'a> {
    pub fn new(ini: &'a IniContext<'a>) -> Self {
        RuleContext {
            ini,
            advice: std::cell::OnceCell::new(),
        }
    }

    /// The advice for this config with what `check` knows (no measurements).
    pub fn advice(&self) -> &crate::advise::plan::Plan {
        self.advice.get_or_init(|| {
            crate::advise::plan::plan(self.ini, None, &crate::advise::plan::Given::default())
        })
    }
}

impl<'a> std::ops::Deref for RuleContext<'a> {
    type Target = IniContext<'a>;
    fn deref(&self) -> &IniContext<'a> {
        self.ini
    }
}

pub type CheckFn = fn(&RuleContext, &Rule, &mut Vec<Diagnostic>);

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// In the default rule set (opinions and rules that are often noise are
    /// not; `--select ALL` or `extend-select` turns them on).
    pub default: bool,
    pub summary: &'static str,
    /// `None` for rules the pipeline itself produces (suppressions).
    pub check: Option<CheckFn>,
    /// `rules/UWxxx.md`, compiled in for `explain`.
    pub page: &'static str,
}

impl Rule {
    /// A diagnostic of this rule at a `(file, span)` place.
    pub fn at(&self, (file, span): (FileId, Span), message: impl Into<String>) -> Diagnostic {
        self.diag(file, span, message)
    }

    /// A diagnostic of this rule at its default severity.
    pub fn diag(&self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: self.code,
            name: self.name,
            severity: self.severity,
            message: message.into(),
            file,
            span,
            related: Vec::new(),
            help: None,
            fix: None,
        }
    }
}

macro_rules! registry {
    ($($code:ident $name:literal $sev:ident $default:ident $check:expr => $summary:literal;)*) => {
        pub static RULES: &[Rule] = &[
            $(Rule {
                code: stringify!($code),
                name: $name,
                severity: Severity::$sev,
                default: registry!(@default $default),
                summary: $summary,
                check: $check,
                page: include_str!(concat!("../../rules/", stringify!($code), ".md")),
            },)*
        ];
    };
    (@default on) => { true };
    (@default off) => { false };
}

registry! {
    UW001 "parse-error" Error on Some(inputs::parse_error) => "a file cannot be read as uWSGI reads it (NUL bytes, UTF-16)";
    UW002 "include-not-found" Error on Some(inputs::include_not_found) => "an included file (`ini`, `include`, `inherit`, `@(path)`) does not exist";
    UW003 "include-cycle" Error on Some(inputs::include_cycle) => "an ini includes or inherits itself: uWSGI crashes or loops";
    UW004 "runtime-value" Info on Some(inputs::runtime_value) => "a value needs execution, network or an unset env var; it is never run here";
    UW005 "unclosed-logic-block" Error on Some(inputs::unclosed_logic_block) => "an `if-*`/`for*` block is never closed and swallows every later option";
    UW006 "nested-logic-block" Error on Some(inputs::nested_logic_block) => "a logic block inside another: uWSGI exits at startup";
    UW007 "invalid-suppression" Warning on None => "a `uwsgi-lint: ignore[...]` comment names an unknown rule or gives no reason";
    UW008 "unused-suppression" Warning on None => "a suppression comment that suppressed nothing";
    UW009 "section-not-found" Error on Some(inputs::section_not_found) => "the requested section (default `uwsgi`) is absent: the file contributes nothing";
    UW101 "unknown-option" Error on Some(values::unknown_option) => "a key is no uWSGI option and is silently ignored";
    UW102 "unit-suffix-ignored" Error on Some(values::unit_suffix_ignored) => "a size or number carries a suffix or decimal that uWSGI ignores";
    UW103 "non-numeric-value" Error on Some(values::non_numeric_value) => "a numeric option's value reads as 0 or a prefix (quotes, hex, words, bare key)";
    UW104 "inline-comment" Error on Some(values::inline_comment_rule) => "a value contains `;`/`#` comment text, which uWSGI keeps in the value";
    UW105 "quoted-value" Error on Some(values::quoted_value) => "a string option keeps its quotes";
    UW106 "duplicate-option" Warning on Some(values::duplicate_option) => "a single-valued option is set more than once";
    UW107 "stray-percent" Error on Some(values::stray_percent) => "`%` before a character that is no magic variable is deleted, with it";
    UW108 "value-out-of-range" Error on Some(values::value_out_of_range) => "zero workers, negative counts, clamped buffer-size, zero backlog";
    UW109 "immediate-option-placeholder" Error on Some(values::immediate_option_placeholder) => "`$()`/`%()`/`@()` in an immediate option is never expanded";
    UW110 "option-needs-newer-uwsgi" Warning on Some(values::option_needs_newer_uwsgi) => "an option newer than the target uWSGI is silently ignored";
    UW111 "inherit-overrides" Warning on Some(values::inherit_overrides) => "`inherit =` is applied last and overrides later keys and the command line";
    UW112 "include-with-section" Error on Some(inputs::include_with_section) => "`include = f.ini:section` fails at startup; use `ini =`";
    UW113 "conflicting-app-entry" Warning on Some(values::conflicting_app_entry) => "more than one application entry point (`module`, `wsgi-file` ...)";
    UW114 "reload-mercy-ineffective" Warning on Some(values::reload_mercy_ineffective) => "`reload-mercy` without `worker-reload-mercy` does not bound worker shutdown";
    UW115 "lifetime-not-above-min" Error on Some(values::lifetime_not_above_min) => "`max-worker-lifetime` ≤ `min-worker-lifetime`: startup fails";
    UW116 "invalid-cheaper" Error on Some(values::invalid_cheaper) => "`cheaper` not below `processes`, non-numeric, or rss limits given in MB";
    UW117 "strict-rejects-input" Error on Some(values::strict_rejects_input) => "`strict = true` with a key that is no option: startup fails";
    UW118 "placeholder-math-misread" Warning on Some(values::placeholder_math_misread) => "a `%()` expression uWSGI evaluates differently from arithmetic (no parentheses, no precedence)";
    UW119 "router-option-without-router" Warning on Some(values::router_option_without_router) => "an option of the `http` router where no router runs (`http-socket` ignores it)";
    UW201 "recycling-without-master" Error on Some(memory::recycling_without_master) => "recycling or harakiri without the master: the first recycle ends the server";
    UW202 "memory-budget-exceeded" Error on Some(memory::memory_budget_exceeded) => "worst-case memory of the workers exceeds the container's hard limit";
    UW203 "unbounded-worker-memory" Warning on Some(memory::unbounded_worker_memory) => "nothing bounds a worker's memory";
    UW204 "no-request-recycling" Info off Some(memory::no_request_recycling) => "neither `max-requests` nor `max-worker-lifetime`: slow leaks never reset";
    UW205 "synchronized-recycling" Info off Some(memory::synchronized_recycling) => "all workers recycle at the same count or age";
    UW206 "recycle-storm" Warning on Some(memory::recycle_storm) => "recycling thresholds so low that workers respawn constantly";
    UW207 "address-space-limit-misuse" Warning on Some(memory::address_space_limit_misuse) => "`reload-on-as`/`limit-as` small or not above `reload-on-rss`";
    UW208 "soft-limit-only" Warning on Some(memory::soft_limit_only) => "only a memory reservation and no hard limit: workers can grow into the whole host";
    UW209 "lazy-apps-memory" Info off Some(memory::lazy_apps_memory) => "`lazy-apps` with several workers multiplies app memory";
    UW210 "suspicious-memory-limit" Warning on Some(memory::suspicious_memory_limit) => "a memory limit that is almost surely a unit mistake (`mem_limit: 512`, `400m` in Kubernetes)";
    UW211 "limits-disagree" Warning on Some(memory::limits_disagree) => "two sources give one container different hard memory limits";
    UW301 "harakiri-exceeds-proxy-timeout" Warning on Some(lifecycle::harakiri_exceeds_proxy_timeout) => "`harakiri` above the proxy's read timeout: the client gets an error while the worker keeps running";
    UW302 "no-harakiri" Warning on Some(lifecycle::no_harakiri) => "no request timeout: a stuck request holds a worker forever";
    UW303 "sigterm-reloads" Error on Some(lifecycle::sigterm_reloads) => "uWSGI 2.0 with a master in a container, and nothing makes SIGTERM stop it: every stop waits the grace period, then SIGKILL";
    UW304 "mercy-exceeds-grace-period" Warning on Some(lifecycle::mercy_exceeds_grace_period) => "uWSGI ≥ 2.1: `worker-reload-mercy` longer than the container's stop grace period";
    UW305 "harakiri-without-post-buffering" Info on Some(lifecycle::harakiri_without_post_buffering) => "slow uploads count against harakiri";
    UW306 "daemonize-in-container" Error on Some(lifecycle::daemonize_in_container) => "`daemonize` in a container: the main process exits and the container stops";
    UW307 "need-app-off" Warning on Some(lifecycle::need_app_off) => "an import error leaves a server that answers every request with an error";
    UW308 "stop-drops-requests" Info on Some(lifecycle::stop_drops_requests) => "in a container, `die-on-term` without the graceful hook: every stop cuts in-flight requests";
    UW309 "shell-in-front" Error on Some(lifecycle::shell_in_front) => "the container's script runs uWSGI without `exec`: SIGTERM never reaches it, every stop SIGKILLs in-flight requests";
    UW401 "upstream-not-served" Error on Some(proxy::upstream_not_served) => "an Nginx `uwsgi_pass`/`proxy_pass` target matches no socket of the uWSGI config";
    UW402 "protocol-mismatch" Error on Some(proxy::protocol_mismatch) => "`uwsgi_pass` to an HTTP socket or `proxy_pass` to a uwsgi-protocol socket: every request is a 502";
    UW403 "buffer-size-below-proxy-headers" Warning on Some(proxy::buffer_size_below_proxy_headers) => "uWSGI `buffer-size` below the request headers Nginx lets through";
    UW404 "body-size-mismatch" Warning on Some(proxy::body_size_mismatch) => "Nginx `client_max_body_size` above uWSGI `limit-post`";
    UW405 "unix-socket-permissions" Warning on Some(proxy::unix_socket_permissions) => "a unix socket Nginx connects to with no `chmod-socket`/`chown-socket`";
    UW406 "nginx-workers-auto-in-container" Warning on Some(proxy::nginx_workers_auto_in_container) => "co-located Nginx with `worker_processes auto` under a CPU limit counts host CPUs";
    UW407 "proxy-directive-on-uwsgi-pass" Warning on Some(proxy::proxy_directive_on_uwsgi_pass) => "`proxy_*` directives in a location that passes with `uwsgi_pass`: they have no effect";
    UW408 "harakiri-exceeds-front-timeout" Warning on Some(front_timeout::harakiri_exceeds_front_timeout) => "`harakiri` (or none) above the timeout of a front that is not Nginx (ALB, Ingress, Traefik): the client gets a 504 while the worker keeps running";
    UW501 "listen-exceeds-somaxconn" Error on Some(container::listen_exceeds_somaxconn) => "`listen` above the container's `net.core.somaxconn`: startup fails";
    UW502 "workers-exceed-cpu" Warning on Some(container::workers_exceed_cpu) => "`%k` in a container (host CPUs), or workers far above the CPU limit";
    UW503 "no-memory-limit" Info off Some(container::no_memory_limit) => "uWSGI runs in a container with no hard memory limit";
    UW504 "env-overridden-by-ini" Warning on Some(container::env_overridden_by_ini) => "a `UWSGI_*` variable of the container whose option the ini sets again: the env value is dead";
    UW505 "config-not-used" Info on Some(container::config_not_used) => "containers run uWSGI, but none runs this config";
    UW601 "strict-off" Info off Some(hardening::strict_off) => "`strict` is off: typos are silently ignored";
    UW602 "uwsgi-socket-public" Warning on Some(hardening::uwsgi_socket_public) => "a uwsgi-protocol socket on all interfaces, published by its container";
    UW603 "socket-world-writable" Warning off Some(hardening::socket_world_writable) => "`chmod-socket` 666/777";
    UW604 "runs-as-root" Info on Some(hardening::runs_as_root) => "no `uid`/`gid`";
    UW605 "autoreload-in-production" Warning on Some(hardening::autoreload_in_production) => "`py-autoreload`/`fs-reload` with several workers";
    UW606 "single-interpreter-off" Info on Some(hardening::single_interpreter_off) => "`single-interpreter` is off";
    UW607 "vacuum-off" Info off Some(hardening::vacuum_off) => "`vacuum` off with unix sockets or pid files";
    UW608 "threads-disabled" Warning on Some(hardening::threads_disabled) => "uWSGI < 2.0.27 without `enable-threads`: background threads never run";
    UW609 "http-router-behind-proxy" Info on Some(hardening::http_router_behind_proxy) => "`http =` adds a router process; behind a proxy use `http-socket`";
    UW610 "stats-server-public" Warning on Some(hardening::stats_server_public) => "the stats server on all interfaces, published by its container";
}

/// The rule index as Markdown (docs/rules.md is this, kept current by a test).
pub fn index_markdown() -> String {
    let mut s = String::from(
        "# Rules\n\nGenerated from the rule registry (`uwsgi-lint rules`); each code links to its page.\nRules marked \"no\" under *default* are opinions or depend on taste: they run only when\nselected (`--select ALL`, `--extend-select UW601`, or `extend-select` in the configuration).\n\n| code | name | default severity | default | what it finds |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        s.push_str(&format!(
            "| [{code}](../rules/{code}.md) | {name} | {sev} | {on} | {summary} |\n",
            code = r.code,
            name = r.name,
            sev = r.severity.as_str(),
            on = if r.default { "yes" } else { "no" },
            summary = r.summary.replace('|', "\\|")
        ));
    }
    s
}

pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// Run every selected rule on one resolved ini; a panicking rule becomes an
/// internal-error diagnostic instead of stopping the run.
pub fn check_ini(ini: &IniContext, selected: &dyn Fn(&Rule) -> bool) -> Vec<Diagnostic> {
    run_rules(&RuleContext::new(ini), RULES, selected)
}

fn run_rules(
    ctx: &RuleContext,
    rules: &[Rule],
    selected: &dyn Fn(&Rule) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| selected(r)) {
        let Some(check) = rule.check else { continue };
        let mut found = Vec::new();
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(ctx, rule, &mut found)
        }));
        match ok {
            Ok(()) => out.extend(found),
            Err(_) => out.push(Diagnostic {
                code: "UW000",
                name: "internal-error",
                severity: Severity::Error,
                message: format!(
                    "rule {} ({}) failed on this file; please report it",
                    rule.code, rule.name
                ),
                file: ctx.file,
                span: Span::default(),
                related: Vec::new(),
                help: None,
                fix: None,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceMap};
    use crate::uwsgi::resolve::Resolved;
    use crate::uwsgi::version::Version;

    fn boom(_: &RuleContext, _: &Rule, _: &mut Vec<Diagnostic>) {
        panic!("rule bug");
    }

    fn quiet(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
        out.push(rule.diag(ctx.file, Span::default(), "ran"));
    }

    #[test]
    fn a_panicking_rule_becomes_an_internal_error_and_others_still_run() {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("x.ini", None, b"[uwsgi]\n".to_vec()));
        let resolved = Resolved::default();
        let ctx = IniContext {
            sources: &sources,
            file,
            resolved: &resolved,
            target: Version::new(2, 0, 30),
            target_from: None,
            deployment: None,
            project: &ProjectContext::default(),
            nginx: Vec::new(),
            memory: &crate::model::Memory::default(),
            header_cache: Default::default(),
            anchor_cache: Default::default(),
            doc_cache: Default::default(),
            sockets_cache: Default::default(),
        };
        let ctx = RuleContext::new(&ctx);
        let rule = |code, check| Rule {
            code,
            name: "test",
            severity: Severity::Warning,
            default: true,
            summary: "",
            check: Some(check),
            page: "",
        };
        let rules = [
            rule("UW990", boom as CheckFn),
            rule("UW991", quiet as CheckFn),
        ];
        let out = run_rules(&ctx, &rules, &|_| true);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].code, "UW000");
        assert!(out[0].message.contains("UW990"));
        assert_eq!(out[1].code, "UW991");
    }
}
