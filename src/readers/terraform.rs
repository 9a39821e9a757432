//! Terraform: `resource "aws_ecs_task_definition"` blocks, their `family`
//! and `memory`, and `container_definitions` written as `jsonencode([...])`
//! (HCL objects), a heredoc of JSON, `file()`/`templatefile()` of a JSON
//! template in the project, or `data "template_file"`. A `var.x` whose
//! literal value is known (from the callers of a local module, else
//! `terraform.tfvars`/`*.auto.tfvars`, else its `default`; one also set in
//! a per-run `*.tfvars` is not) and a literal `local.x` of the same module
//! are used; anything else Terraform
//! only knows when it plans (`aws_ecr_repository.x.url`, a variable with no
//! default) stays unknown, and is said (UW004) where a check needs it.
//!
//! HCL is parsed by `hcl-edit`: it keeps the byte span of every expression,
//! which findings need (`hcl-rs` parses into values without positions).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Body, Structure};
use hcl_edit::template::Element;

use super::aws::{self, Keys, Known, Tree, Unknowns, Val};
use super::aws_fronts;
use super::{Candidate, ReadContext, Reader};
use crate::container::ecs;
use crate::source::{FileId, Span};

pub struct TerraformFiles;

/// Deepest nesting of variables, locals and calls followed.
const MAX_DEPTH: usize = 16;
/// Most template bytes read in all (a template read by many calls).
const MAX_TEMPLATE_BYTES: usize = 64 << 20;

impl Reader for TerraformFiles {
    fn name(&self) -> &'static str {
        "terraform"
    }

    fn claims(&self, file: &Candidate) -> bool {
        matches!(file.ext, "tf" | "tfvars")
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        // Variables and locals belong to a module: every `.tf` of a directory.
        let mut parsed: Vec<(PathBuf, FileId, String, Body)> = Vec::new();
        let mut modules: HashMap<PathBuf, Module> = HashMap::new();
        // What sets a variable besides its default, by module directory:
        // the callers of a local module, `terraform.tfvars`/`*.auto.tfvars`
        // (read by every run), other `*.tfvars` (chosen per run: unknown).
        let mut passed: HashMap<PathBuf, HashMap<String, Vec<Option<Expression>>>> = HashMap::new();
        let mut auto_set: HashMap<PathBuf, HashMap<String, Expression>> = HashMap::new();
        let mut chosen_set: HashMap<PathBuf, Vec<String>> = HashMap::new();
        for f in files {
            let Some((id, text)) = cx.read(f) else {
                continue;
            };
            let body = match hcl_edit::parser::parse_body(&text) {
                Ok(b) => b,
                Err(e) => {
                    // Only a file that defines tasks matters to this tool.
                    if text.contains("aws_ecs_task_definition") {
                        let at = e.location().offset().min(text.len());
                        cx.problem(
                            "UW001",
                            id,
                            Span::new(at, at),
                            format!("not valid HCL: {}", e.message()),
                        );
                    }
                    continue;
                }
            };
            let dir = dir_of(f);
            if f.extension().is_some_and(|e| e == "tfvars") {
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                let auto = name == "terraform.tfvars" || name.ends_with(".auto.tfvars");
                for a in attributes(&body) {
                    let key = a.key.as_str().to_string();
                    if auto {
                        auto_set
                            .entry(dir.clone())
                            .or_default()
                            .insert(key, a.value.clone());
                    } else {
                        chosen_set.entry(dir.clone()).or_default().push(key);
                    }
                }
                continue;
            }
            let m = modules.entry(dir.clone()).or_default();
            for s in body.iter() {
                let Structure::Block(b) = s else { continue };
                match (b.ident.as_str(), b.labels.first().map(|l| l.as_str())) {
                    ("variable", Some(name)) => {
                        if let Some(d) = b.body.get_attribute("default") {
                            m.vars.insert(name.to_string(), Some(d.value.clone()));
                        }
                    }
                    ("module", Some(_)) => {
                        let source = b.body.get_attribute("source").and_then(|s| match &s.value {
                            Expression::String(v) => Some(v.value().to_string()),
                            _ => None,
                        });
                        let Some(source) =
                            source.filter(|s| s.starts_with("./") || s.starts_with("../"))
                        else {
                            continue;
                        };
                        let target = crate::input::normalize_lexically(&dir.join(source));
                        let args = passed.entry(target).or_default();
                        for a in attributes(&b.body) {
                            let key = a.key.as_str();
                            if matches!(
                                key,
                                "source"
                                    | "version"
                                    | "providers"
                                    | "count"
                                    | "for_each"
                                    | "depends_on"
                            ) {
                                continue;
                            }
                            let value = literal(&a.value).is_some().then(|| a.value.clone());
                            args.entry(key.to_string()).or_default().push(value);
                        }
                    }
                    ("data", Some("template_file")) => {
                        if let (Some(name), Some(t)) = (
                            b.labels.get(1).map(|l| l.as_str()),
                            b.body.get_attribute("template"),
                        ) {
                            m.templates.insert(
                                name.to_string(),
                                (
                                    t.value.clone(),
                                    b.body.get_attribute("vars").map(|v| v.value.clone()),
                                ),
                            );
                        }
                    }
                    ("locals", _) => {
                        for a in attributes(&b.body) {
                            m.locals.insert(a.key.as_str().to_string(), a.value.clone());
                        }
                    }
                    _ => {}
                }
            }
            parsed.push((f.clone(), id, text, body));
        }
        for (dir, m) in &mut modules {
            let key = crate::input::normalize_lexically(dir);
            for (name, values) in passed.get(&key).into_iter().flatten() {
                // One value from every caller, or unknown.
                let same = values.iter().all(|v| v.is_some() && v == &values[0]);
                m.vars
                    .insert(name.clone(), values[0].clone().filter(|_| same));
            }
            for (name, value) in auto_set.get(dir).into_iter().flatten() {
                m.vars.insert(name.clone(), Some(value.clone()));
            }
            for name in chosen_set.get(dir).into_iter().flatten() {
                m.vars.insert(name.clone(), None);
            }
        }
        // Work allowed, for the whole read: linear in what was read.
        let mut budget = 10_000 + 8 * parsed.iter().map(|p| p.2.len()).sum::<usize>();
        let mut bytes_left = MAX_TEMPLATE_BYTES;
        let mut lb_resources: Vec<aws_fronts::Resource> = Vec::new();
        for (f, id, text, body) in &parsed {
            let dir = dir_of(f);
            let empty = Module::default();
            let module = modules.get(&dir).unwrap_or(&empty);
            for s in body.iter() {
                let Structure::Block(b) = s else { continue };
                let kind = b.labels.first().map(|l| l.as_str()).unwrap_or_default();
                if b.ident.as_str() == "resource" && aws_fronts::TERRAFORM_TYPES.contains(&kind) {
                    // Load balancers and what links them (tasks: only the family).
                    let mut ev = Eval {
                        module,
                        dir: &dir,
                        id: *id,
                        text,
                        cx,
                        depth: 0,
                        budget,
                        bytes_left,
                    };
                    let tree = if kind == "aws_ecs_task_definition" {
                        let family = b.body.get_attribute("family").map(|a| ev.tree(&a.value));
                        Tree::new(
                            Val::Obj(
                                family
                                    .map(|f| ("family".to_string(), f))
                                    .into_iter()
                                    .collect(),
                            ),
                            span(b.span()),
                        )
                    } else {
                        ev.body_tree(&b.body, span(b.span()))
                    };
                    (budget, bytes_left) = (ev.budget, ev.bytes_left);
                    lb_resources.push(aws_fronts::Resource {
                        file: f.clone(),
                        scope: dir.clone(),
                        kind: kind.to_string(),
                        id: format!(
                            "{kind}.{}",
                            b.labels.get(1).map(|l| l.as_str()).unwrap_or_default()
                        ),
                        tree,
                        span: span(b.span()),
                    });
                }
                if b.ident.as_str() != "resource" || kind != "aws_ecs_task_definition" {
                    continue;
                }
                let Some(defs) = b.body.get_attribute("container_definitions") else {
                    continue;
                };
                let label = b.labels.get(1).map(|l| l.as_str().to_string());
                let mut ev = Eval {
                    module,
                    dir: &dir,
                    id: *id,
                    text,
                    cx,
                    depth: 0,
                    budget,
                    bytes_left,
                };
                let mut fields = Vec::new();
                for key in ["family", "memory"] {
                    if let Some(a) = b.body.get_attribute(key) {
                        fields.push((key.to_string(), ev.tree(&a.value)));
                    }
                }
                let task_tree = Tree::new(Val::Obj(fields), span(b.span()));
                let mut unknowns: Unknowns = Vec::new();
                let defs = ev.tree(&defs.value);
                (budget, bytes_left) = (ev.budget, ev.bytes_left);
                let task = aws::task(Some(&task_tree), &defs, Keys::Camel, &mut unknowns);
                super::report_task(cx, *id, &task, unknowns);
                let mut containers = ecs::containers(f, &task);
                for c in &mut containers {
                    if c.group.is_none() {
                        c.group = label.clone();
                    }
                }
                cx.project.containers.extend(containers);
            }
        }
        cx.project.fronts.extend(aws_fronts::fronts(&lb_resources));
    }
}

#[derive(Default)]
struct Module {
    /// A variable's value when one is known (`None`: set, but unknown).
    vars: HashMap<String, Option<Expression>>,
    locals: HashMap<String, Expression>,
    /// `data "template_file"`: its `template` and `vars`.
    templates: HashMap<String, (Expression, Option<Expression>)>,
}

fn attributes(body: &Body) -> impl Iterator<Item = &hcl_edit::structure::Attribute> {
    body.iter().filter_map(|s| match s {
        Structure::Attribute(a) => Some(a),
        _ => None,
    })
}

fn dir_of(f: &Path) -> PathBuf {
    f.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn span(r: Option<std::ops::Range<usize>>) -> Span {
    r.map_or(Span::default(), |r| Span::new(r.start, r.end))
}

/// Evaluates the expressions this reader needs, as far as they are known.
struct Eval<'a, 'c, 'r> {
    module: &'a Module,
    dir: &'a Path,
    id: FileId,
    /// The `.tf` file's text (heredocs are read from it).
    text: &'a str,
    cx: &'c mut ReadContext<'r>,
    depth: usize,
    /// Work left, in nodes and heredoc bytes: a local
    /// used many times by locals used many times would otherwise grow
    /// exponentially with the nesting. Past it, values are unknown.
    budget: usize,
    bytes_left: usize,
}

impl Eval<'_, '_, '_> {
    fn unknown(&self, e: &Expression) -> Tree {
        let at = span(e.span());
        let shown = self.text.get(at.range()).unwrap_or("?").trim();
        Tree::new(Val::Unknown(shown.to_string()), at)
    }

    /// A block's attributes and nested blocks as an object (a repeated
    /// block is a repeated key).
    fn body_tree(&mut self, body: &Body, at: Span) -> Tree {
        let mut fields = Vec::new();
        if self.depth <= MAX_DEPTH {
            self.depth += 1;
            for s in body.iter() {
                match s {
                    Structure::Attribute(a) => {
                        fields.push((a.key.as_str().to_string(), self.tree(&a.value)))
                    }
                    Structure::Block(b) => {
                        let t = self.body_tree(&b.body, span(b.span()));
                        fields.push((b.ident.as_str().to_string(), t));
                    }
                }
            }
            self.depth -= 1;
        }
        Tree::new(Val::Obj(fields), at)
    }

    fn tree(&mut self, e: &Expression) -> Tree {
        self.budget = self.budget.saturating_sub(1);
        if self.depth > MAX_DEPTH || self.budget == 0 {
            return self.unknown(e);
        }
        let at = span(e.span());
        let val = match e {
            Expression::Null(_) => Val::Null,
            Expression::Bool(b) => Val::Bool(*b.value()),
            Expression::Number(n) => Val::Num(n.value().to_string()),
            Expression::String(s) => Val::Str(s.value().to_string()),
            Expression::Array(a) => Val::Arr(a.iter().map(|x| self.tree(x)).collect()),
            Expression::Object(o) => Val::Obj(
                o.iter()
                    .filter_map(|(k, v)| {
                        let key = match k {
                            ObjectKey::Ident(i) => i.as_str().to_string(),
                            ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                            _ => return None,
                        };
                        Some((key, self.tree(v.expr())))
                    })
                    .collect(),
            ),
            Expression::Parenthesis(p) => return self.tree(p.inner()),
            Expression::StringTemplate(t) => {
                let mut s = String::new();
                for el in t.iter() {
                    match el {
                        Element::Literal(l) => s.push_str(l.value()),
                        Element::Interpolation(i) => match self.scalar(&i.expr) {
                            Some(Known::Str(v) | Known::Num(v)) => s.push_str(&v),
                            Some(Known::Bool(b)) => s.push_str(if b { "true" } else { "false" }),
                            None => return self.unknown(e),
                        },
                        Element::Directive(_) => return self.unknown(e),
                    }
                }
                Val::Str(s)
            }
            Expression::HeredocTemplate(_) => return self.heredoc(e),
            Expression::Traversal(t) => {
                if let Some(r) = self.rendered(e, t) {
                    return r;
                }
                let Some(found) = self.reference(t) else {
                    return self.unknown(e);
                };
                self.depth += 1;
                let mut v = self.tree(&found);
                self.depth -= 1;
                // The value is written elsewhere: shown where it is used.
                v.respan(at);
                return v;
            }
            Expression::FuncCall(call) => return self.call(e, call),
            _ => return self.unknown(e),
        };
        Tree::new(val, at)
    }

    /// `var.x` (its literal default) or `local.x` of this module.
    fn reference(&self, t: &hcl_edit::expr::Traversal) -> Option<Expression> {
        let (Expression::Variable(root), [op]) = (&t.expr, &t.operators[..]) else {
            return None;
        };
        let TraversalOperator::GetAttr(name) = op.value() else {
            return None;
        };
        match root.as_str() {
            "var" => self.module.vars.get(name.as_str()).cloned().flatten(),
            "local" => self.module.locals.get(name.as_str()).cloned(),
            _ => None,
        }
    }

    fn scalar(&mut self, e: &Expression) -> Option<Known> {
        match self.tree(e).val {
            Val::Str(s) => Some(Known::Str(s)),
            Val::Num(n) => Some(Known::Num(n)),
            Val::Bool(b) => Some(Known::Bool(b)),
            _ => None,
        }
    }

    fn heredoc(&mut self, e: &Expression) -> Tree {
        let at = span(e.span());
        let whole = self.text.get(at.range()).unwrap_or("");
        // The template is between the `<<EOF` line and the delimiter line.
        let Some(nl) = whole.find('\n') else {
            return self.unknown(e);
        };
        let body_end = whole.trim_end().rfind('\n').unwrap_or(whole.len());
        let start = at.start + nl + 1;
        let inner = self
            .text
            .get(start..at.start + body_end.max(nl + 1))
            .unwrap_or("");
        // A heredoc in a local is read again at each use.
        if inner.len() >= self.budget {
            self.budget = 0;
            return self.unknown(e);
        }
        self.budget -= inner.len();
        let known = |expr: &str| self.literal_reference(expr);
        match aws::template_json(inner, &known) {
            Ok(mut t) => {
                t.shift(start);
                t
            }
            Err(err) => {
                self.cx.problem(
                    "UW004",
                    self.id,
                    Span::new(err.span.start + start, err.span.end + start),
                    format!("these container definitions are not read: {}", err.message),
                );
                // Said once, here: nothing is read from it.
                Tree::new(Val::Null, span(e.span()))
            }
        }
    }

    /// A `${var.x}`/`${local.x}` placeholder of a heredoc, when literal.
    fn literal_reference(&self, expr: &str) -> Option<Known> {
        let (kind, name) = expr.split_once('.')?;
        let e = match kind {
            "var" => self.module.vars.get(name)?.as_ref()?,
            "local" => self.module.locals.get(name)?,
            _ => return None,
        };
        literal(e)
    }

    fn call(&mut self, e: &Expression, call: &hcl_edit::expr::FuncCall) -> Tree {
        let at = span(e.span());
        let name = call.name.name.as_str();
        let arg = |i: usize| call.args.get(i);
        match name {
            // The value JSON-encoded: read as the value itself.
            "jsonencode" | "tostring" | "tonumber" | "jsondecode" => match arg(0) {
                Some(a) => {
                    self.depth += 1;
                    let t = self.tree(a);
                    self.depth -= 1;
                    t
                }
                None => self.unknown(e),
            },
            "file" | "templatefile" => {
                let Some(path) = arg(0).and_then(|p| self.path(p)) else {
                    return self.unknown(e);
                };
                let vars = self.vars(arg(1));
                self.template_file(e, &path, name == "templatefile", &vars, at)
            }
            _ => self.unknown(e),
        }
    }

    /// The literal values of a template's `vars` object, with their spans.
    fn vars(&mut self, o: Option<&Expression>) -> HashMap<String, (Known, Span)> {
        let mut vars = HashMap::new();
        if let Some(Expression::Object(o)) = o {
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                    _ => continue,
                };
                if let Some(val) = self.scalar(v.expr()) {
                    vars.insert(key, (val, span(v.expr().span())));
                }
            }
        }
        vars
    }

    /// `data.template_file.NAME.rendered` (the template provider, before
    /// `templatefile()`): its `template = file(…)` rendered with its `vars`.
    fn rendered(&mut self, e: &Expression, t: &hcl_edit::expr::Traversal) -> Option<Tree> {
        let names: Vec<&str> = t
            .operators
            .iter()
            .map(|o| match o.value() {
                TraversalOperator::GetAttr(n) => n.as_str(),
                _ => "",
            })
            .collect();
        let (Expression::Variable(root), ["template_file", name, "rendered"]) =
            (&t.expr, &names[..])
        else {
            return None;
        };
        if root.as_str() != "data" {
            return None;
        }
        let module = self.module;
        let (template, vars) = module.templates.get(*name)?;
        // `file("…")`, or the older `"${file("…")}"`.
        let call = match template {
            Expression::FuncCall(c) => c,
            Expression::StringTemplate(st) => match st.as_single_element()? {
                Element::Interpolation(i) => match &i.expr {
                    Expression::FuncCall(c) => c,
                    _ => return None,
                },
                _ => return None,
            },
            _ => return None,
        };
        if call.name.name.as_str() != "file" {
            return None;
        }
        let path = self.path(call.args.get(0)?)?;
        let vars = self.vars(vars.as_ref());
        Some(self.template_file(e, &path, true, &vars, span(e.span())))
    }

    /// A path argument: a literal, or `"${path.module}/…"`, relative to
    /// the module's directory.
    fn path(&mut self, p: &Expression) -> Option<PathBuf> {
        let raw = match p {
            Expression::String(s) => s.value().to_string(),
            Expression::StringTemplate(t) => {
                let mut s = String::new();
                for el in t.iter() {
                    match el {
                        Element::Literal(l) => s.push_str(l.value()),
                        Element::Interpolation(i) => {
                            let text = self.text.get(span(i.expr.span()).range())?.trim();
                            if matches!(text, "path.module" | "path.root" | "path.cwd") {
                                s.push('.');
                            } else {
                                match self.scalar(&i.expr)? {
                                    Known::Str(v) | Known::Num(v) => s.push_str(&v),
                                    Known::Bool(_) => return None,
                                }
                            }
                        }
                        Element::Directive(_) => return None,
                    }
                }
                s
            }
            _ => match self.scalar(p)? {
                Known::Str(s) => s,
                _ => return None,
            },
        };
        let p = Path::new(&raw);
        Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            crate::input::normalize_lexically(&self.dir.join(p))
        })
    }

    fn template_file(
        &mut self,
        e: &Expression,
        path: &Path,
        templated: bool,
        vars: &HashMap<String, (Known, Span)>,
        at: Span,
    ) -> Tree {
        let shown = crate::uwsgi::resolve::display_name(&self.cx.cwd, path);
        if crate::confine::is_outside(self.cx.roots, path) {
            self.cx.problem(
                "UW004",
                self.id,
                at,
                format!("`{shown}` is outside the project, so it is not read here: these container definitions are unknown"),
            );
            return Tree::new(Val::Null, at);
        }
        let Some((id, text)) = self.cx.read(path) else {
            // (An unreadable file is reported by `read`; a missing one here.)
            let missing = self
                .cx
                .overlay
                .read(path)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            if missing {
                self.cx.problem(
                    "UW002",
                    self.id,
                    at,
                    format!(
                        "`{shown}` is not in the project: these container definitions are not read"
                    ),
                );
            }
            return Tree::new(Val::Null, at);
        };
        if text.len() > self.bytes_left {
            return self.unknown(e);
        }
        self.bytes_left -= text.len();
        let known = |expr: &str| vars.get(expr).map(|(k, _)| k.clone());
        let read = if templated {
            aws::template_json(&text, &known)
        } else {
            // `file()` does not render: a `${` is text.
            aws::json(&text)
        };
        match read {
            Ok(mut t) => {
                // Spans of the template file mean nothing in the `.tf`: a
                // value that is one placeholder is shown at the variable
                // given in the call, any other at the call.
                let from_var = |s: Span| {
                    let written = text.get(s.range()).unwrap_or("").trim_matches('"');
                    written
                        .strip_prefix("${")
                        .and_then(|w| w.strip_suffix('}'))
                        .and_then(|name| vars.get(name.trim()))
                        .map_or(at, |(_, origin)| *origin)
                };
                t.respan_by(&from_var);
                t
            }
            Err(err) => {
                self.cx.problem(
                    "UW004",
                    id,
                    err.span,
                    format!(
                        "read as the container definitions of a Terraform task, but not read: {}",
                        err.message
                    ),
                );
                // Said once, here: nothing is read from it.
                Tree::new(Val::Null, span(e.span()))
            }
        }
    }
}

/// A literal value (a variable's default is written as one).
fn literal(e: &Expression) -> Option<Known> {
    match e {
        Expression::String(s) => Some(Known::Str(s.value().to_string())),
        Expression::Number(n) => Some(Known::Num(n.value().to_string())),
        Expression::Bool(b) => Some(Known::Bool(*b.value())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn locals_used_many_times_stay_bounded() {
        // Each level uses the one below 40 times: 40^12 nodes if expanded.
        let mut tf = String::from("locals {\n  l0 = 1\n");
        for i in 1..12 {
            let uses = vec![format!("local.l{}", i - 1); 40].join(", ");
            tf.push_str(&format!("  l{i} = [{uses}]\n"));
        }
        tf.push_str("}\nresource \"aws_ecs_task_definition\" \"t\" {\n  container_definitions = jsonencode([{ name = \"a\", command = local.l11 }])\n}\n");
        // Read (a container, and what the budget left unknown), not hung.
        let n = crate::readers::aws::tests::read_all(&[("/p/main.tf", tf)]);
        assert!(n >= 1);
    }
}
