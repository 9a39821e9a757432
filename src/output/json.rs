//! `--format json`, schema version 1 (see docs/cli).

use serde::Serialize;

use crate::diagnostic::{Applicability, Severity};
use crate::source::{FileId, SourceMap, Span};

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    tool: Tool,
    diagnostics: Diagnostics<'a>,
    deployments: Deployments<'a>,
    summary: Summary,
}

/// The diagnostics, each built as it is written: a large report's entries
/// are never all held at once (tens of MB on top of the report itself).
struct Diagnostics<'a>(&'a super::Input<'a>);

impl Serialize for Diagnostics<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.diagnostics.iter().map(|d| diagnostic(self.0, d)))
    }
}

/// The deployments, each built as it is written.
struct Deployments<'a>(&'a super::Input<'a>);

impl Serialize for Deployments<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.deployments.iter().map(|d| deployment(self.0, d)))
    }
}

#[derive(Serialize)]
struct JDeployment {
    uwsgi: String,
    container: String,
    orchestrator: &'static str,
    reason: String,
    nginx: Vec<String>,
    nginx_colocated: bool,
    uwsgi_version: Option<String>,
    stop_grace_seconds: u64,
    memory_limit_bytes: Option<u64>,
    memory_limit: Option<String>,
    /// Fronts that are not Nginx (ALB, Ingress, Traefik).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fronts: Vec<JFront>,
}

#[derive(Serialize)]
struct JFront {
    kind: &'static str,
    name: String,
    file: String,
    reason: String,
    timeout_seconds: Option<u64>,
    body_limit_bytes: Option<u64>,
    protocol: String,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Serialize)]
struct Loc {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct JRelated {
    #[serde(flatten)]
    loc: Loc,
    message: String,
}

#[derive(Serialize)]
struct JEdit {
    #[serde(flatten)]
    loc: Loc,
    content: String,
}

#[derive(Serialize)]
struct JFix {
    applicability: Applicability,
    edits: Vec<JEdit>,
}

#[derive(Serialize)]
struct JDiag<'a> {
    code: &'a str,
    name: &'a str,
    severity: Severity,
    message: &'a str,
    #[serde(flatten)]
    loc: Loc,
    related: Vec<JRelated>,
    help: Option<&'a str>,
    url: String,
    fix: Option<JFix>,
}

fn loc(sources: &SourceMap, file: FileId, span: Span) -> Loc {
    let f = sources.get(file);
    let a = f.line_col(span.start);
    let b = f.line_col(span.end);
    Loc {
        file: f.name.clone(),
        line: a.line,
        column: a.column,
        end_line: b.line,
        end_column: b.column,
    }
}

/// A path relative to the current directory when below it.
fn shown(p: &std::path::Path) -> String {
    // (Asked for every path of every deployment: the run's, not a call each.)
    let cwd = crate::source::cwd().unwrap_or_default();
    crate::uwsgi::resolve::display_name(&cwd, p)
}

/// The JSON renderer.
pub struct Json;

impl super::Renderer for Json {
    fn render(&self, input: &super::Input<'_>) -> String {
        render(input)
    }

    fn render_to(
        &self,
        input: &super::Input<'_>,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, &doc(input)).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

pub fn render(input: &super::Input<'_>) -> String {
    let mut out = serde_json::to_string_pretty(&doc(input)).unwrap_or_default();
    out.push('\n');
    out
}

/// The JSON document, borrowing from the report.
fn doc<'a>(input: &'a super::Input<'a>) -> Doc<'a> {
    let diags = input.diagnostics;
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    Doc {
        version: 1,
        tool: Tool {
            name: "uwsgi-lint",
            version: env!("CARGO_PKG_VERSION"),
        },
        diagnostics: Diagnostics(input),
        deployments: Deployments(input),
        summary: Summary {
            files: input.files,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            infos: count(Severity::Info),
        },
    }
}

fn diagnostic<'a>(input: &super::Input<'_>, d: &'a crate::diagnostic::Diagnostic) -> JDiag<'a> {
    let sources = input.sources;
    JDiag {
        code: d.code,
        name: d.name,
        severity: d.severity,
        message: &d.message,
        loc: loc(sources, d.file, d.span),
        related: d
            .related
            .iter()
            .map(|r| JRelated {
                loc: loc(sources, r.file, r.span),
                message: r.message.clone(),
            })
            .collect(),
        help: d.help.as_deref(),
        url: crate::output::rule_url(d.code, input.options.docs_url.as_deref()),
        fix: d.fix.as_ref().map(|f| JFix {
            applicability: f.applicability,
            edits: f
                .edits
                .iter()
                .map(|e| JEdit {
                    loc: loc(sources, e.file, e.span),
                    content: e.content.clone(),
                })
                .collect(),
        }),
    }
}

fn deployment(input: &super::Input<'_>, d: &crate::deployment::Deployment) -> JDeployment {
    JDeployment {
        uwsgi: shown(&d.uwsgi),
        container: format!("{}#{}", shown(&d.container.file), d.container.name),
        orchestrator: d.container.orchestrator.as_str(),
        reason: d.reason.clone(),
        nginx: d
            .nginx
            .iter()
            .filter_map(|i| input.nginx.get(*i).map(|n| shown(&n.main)))
            .collect(),
        nginx_colocated: d.nginx_colocated.is_some(),
        uwsgi_version: d.version.as_ref().map(|v| v.0.to_string()),
        stop_grace_seconds: d.grace_seconds(),
        memory_limit_bytes: d.limit().map(|l| l.bytes.0),
        memory_limit: d.limit().map(|l| l.explanation.clone()),
        fronts: d
            .fronts
            .iter()
            .map(|l| {
                let f = &l.front;
                JFront {
                    kind: f.kind.as_str(),
                    name: f.who.clone(),
                    file: shown(&f.place.file),
                    reason: l.why.clone(),
                    timeout_seconds: f.timeout.as_ref().map(|t| t.value),
                    body_limit_bytes: f.body_limit.as_ref().map(|b| b.value),
                    protocol: f.protocol.clone(),
                }
            })
            .collect(),
    }
}
