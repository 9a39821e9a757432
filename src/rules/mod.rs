//! The rule registry: code ↔ name ↔ default severity ↔ check function.
//!
//! A rule is a pure function of parsed and resolved data; it never does I/O.
//! A panic inside one is caught and reported as an internal error, and the
//! other rules still run.

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap, Span};
use crate::uwsgi::resolve::{Entry, Layer, Resolved};
use crate::uwsgi::version::Version;

pub mod inputs;
pub mod values;

/// What a uWSGI-file rule sees.
pub struct IniContext<'a> {
    pub sources: &'a SourceMap,
    /// The file being checked (the one `--ini` named).
    pub file: FileId,
    pub resolved: &'a Resolved,
    pub target: Version,
}

impl IniContext<'_> {
    /// The key and value spans of an entry read from a file.
    pub fn spans(&self, e: &Entry) -> Option<(FileId, Span, Span)> {
        match e.origin.layer {
            Layer::File {
                file, key, value, ..
            } => Some((file, key, value)),
            _ => None,
        }
    }
}

pub type CheckFn = fn(&IniContext, &Rule, &mut Vec<Diagnostic>);

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    pub check: CheckFn,
}

impl Rule {
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
    ($($code:ident $name:literal $sev:ident $check:path => $summary:literal;)*) => {
        pub static RULES: &[Rule] = &[
            $(Rule {
                code: stringify!($code),
                name: $name,
                severity: Severity::$sev,
                summary: $summary,
                check: $check,
            },)*
        ];
    };
}

registry! {
    UW002 "include-not-found" Error inputs::include_not_found => "an included file (`ini`, `include`, `inherit`, `@(path)`) does not exist";
    UW003 "include-cycle" Error inputs::include_cycle => "an ini includes or inherits itself: uWSGI crashes or loops";
    UW004 "runtime-value" Info inputs::runtime_value => "a value needs execution, network or an unset env var; it is never run here";
    UW005 "unclosed-logic-block" Error inputs::unclosed_logic_block => "an `if-*`/`for*` block is never closed and swallows every later option";
    UW006 "nested-logic-block" Error inputs::nested_logic_block => "a logic block inside another: uWSGI exits at startup";
    UW009 "section-not-found" Error inputs::section_not_found => "the requested section (default `uwsgi`) is absent: the file contributes nothing";
    UW101 "unknown-option" Error values::unknown_option => "a key is no uWSGI option and is silently ignored";
    UW102 "unit-suffix-ignored" Error values::unit_suffix_ignored => "a size or number carries a suffix or decimal that uWSGI ignores";
    UW103 "non-numeric-value" Error values::non_numeric_value => "a numeric option's value reads as 0 or a prefix (quotes, hex, words, bare key)";
    UW112 "include-with-section" Error inputs::include_with_section => "`include = f.ini:section` fails at startup; use `ini =`";
}

pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// Run every selected rule on one resolved ini; a panicking rule becomes an
/// internal-error diagnostic instead of stopping the run.
pub fn check_ini(ctx: &IniContext, selected: &dyn Fn(&Rule) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in RULES.iter().filter(|r| selected(r)) {
        let mut found = Vec::new();
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (rule.check)(ctx, rule, &mut found)
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
