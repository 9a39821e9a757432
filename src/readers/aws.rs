//! What the AWS readers (Terraform, CloudFormation, Copilot, templated
//! task JSON) share: a small value tree that can hold *unknown* values
//! (a `var.x`, `!Ref`, `${placeholder}`), the ECS task read from it with the
//! same fields and limits as the ECS JSON reader (`container::ecs`), and
//! JSON with `${…}` placeholders read with byte spans into the template.

use jsonc_parser::ast::Value as Json;
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use crate::container::ecs::{EcsContainer, EcsTask, JsonError};
use crate::container::{At, quantity};
use crate::source::Span;

/// A value of an infrastructure file, or what it is before deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    /// A number as written.
    Num(String),
    Str(String),
    Arr(Vec<Tree>),
    Obj(Vec<(String, Tree)>),
    /// Known only when deployed: the expression as written.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    pub val: Val,
    pub span: Span,
}

impl Tree {
    pub fn new(val: Val, span: Span) -> Self {
        Tree { val, span }
    }

    pub fn get(&self, key: &str) -> Option<&Tree> {
        match &self.val {
            Val::Obj(o) => o.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self) -> Option<&str> {
        match &self.val {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as text (numbers and strings).
    fn text(&self) -> Option<&str> {
        match &self.val {
            Val::Str(s) | Val::Num(s) => Some(s),
            _ => None,
        }
    }

    fn unknown(&self) -> Option<&str> {
        match &self.val {
            Val::Unknown(e) => Some(e),
            _ => None,
        }
    }

    /// Every span shifted by `by` bytes (a template inside a larger file).
    pub fn shift(&mut self, by: usize) {
        self.span = Span::new(self.span.start + by, self.span.end + by);
        self.for_children(|c| c.shift(by));
    }

    /// Every span replaced by `at` (values read from another file, shown
    /// at the expression that reads it).
    pub fn respan(&mut self, at: Span) {
        self.span = at;
        self.for_children(|c| c.respan(at));
    }

    /// Every span replaced by `f` of it.
    pub fn respan_by(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span = f(self.span);
        self.for_children(|c| c.respan_by(f));
    }

    fn for_children(&mut self, mut f: impl FnMut(&mut Tree)) {
        match &mut self.val {
            Val::Arr(a) => a.iter_mut().for_each(&mut f),
            Val::Obj(o) => o.iter_mut().for_each(|(_, v)| f(v)),
            _ => {}
        }
    }
}

/// Key spelling: the ECS API and Terraform write `memoryReservation`,
/// CloudFormation `MemoryReservation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Camel,
    Pascal,
}

impl Keys {
    fn key(self, camel: &str) -> String {
        match self {
            Keys::Camel => camel.to_string(),
            Keys::Pascal => {
                let mut c = camel.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        }
    }
}

/// A value the reader could not know, worth saying (UW004): its span and
/// what it means for the checks.
pub type Unknowns = Vec<At<String>>;

fn note(unknowns: &mut Unknowns, t: &Tree, what: &str) {
    let expr = t.unknown().unwrap_or("?");
    unknowns.push(At::new(
        format!("{what} is `{expr}`, known only once deployed: it is not read"),
        t.span,
    ));
}

/// Task-level `memory`/`family` from `task` (`None` when not given), and the
/// containers of `defs` (an array of container definitions), read as
/// `container::ecs::parse` reads them.
pub fn task(task: Option<&Tree>, defs: &Tree, keys: Keys, unknowns: &mut Unknowns) -> EcsTask {
    let k = |c: &str| keys.key(c);
    let mut out = EcsTask {
        family: task
            .and_then(|t| t.get(&k("family")))
            .and_then(|f| f.str())
            .map(str::to_string),
        ..EcsTask::default()
    };
    if let Some(m) = task.and_then(|t| t.get(&k("memory"))) {
        match m.text() {
            Some(text) => match quantity::ecs_task_memory(text) {
                Ok(b) => out.memory = Some(At::new(b, m.span)),
                Err(e) => out.problems.push(At::new(e.0, m.span)),
            },
            None if m.unknown().is_some() => note(unknowns, m, "the task `memory`"),
            None => out.problems.push(At::new(
                "the task `memory` must be a number of MiB or a string like \"1GB\"".into(),
                m.span,
            )),
        }
    }
    let elements: &[Tree] = match &defs.val {
        Val::Arr(a) => a,
        Val::Unknown(_) => {
            note(unknowns, defs, "`containerDefinitions`");
            &[]
        }
        _ => &[],
    };
    for (i, def) in elements.iter().enumerate() {
        if def.unknown().is_some() {
            note(unknowns, def, "a container definition");
            continue;
        }
        if !matches!(def.val, Val::Obj(_)) {
            continue;
        }
        let name = match def.get(&k("name")) {
            Some(n) if n.str().is_some() => n.str().unwrap_or_default().to_string(),
            _ => format!("container {}", i + 1),
        };
        let mut c = EcsContainer {
            name: name.clone(),
            span: def.span,
            image: def
                .get(&k("image"))
                .and_then(|i| i.str())
                .map(str::to_string),
            ..EcsContainer::default()
        };
        for key in ["memory", "memoryReservation"] {
            let Some(v) = def.get(&k(key)) else { continue };
            let mib = match &v.val {
                Val::Num(n) | Val::Str(n) => n.trim().parse::<i64>().ok(),
                Val::Unknown(_) => {
                    note(unknowns, v, &format!("`{}` of `{name}`", k(key)));
                    continue;
                }
                _ => None,
            };
            match mib.map(quantity::ecs_container_mib) {
                Some(Ok(b)) => {
                    let at = Some(At::new(b, v.span));
                    if key == "memory" {
                        c.memory = at;
                    } else {
                        c.memory_reservation = at;
                    }
                }
                Some(Err(e)) => out.problems.push(At::new(e.0, v.span)),
                None => out.problems.push(At::new(
                    format!("`{}` must be a whole number of MiB", k(key)),
                    v.span,
                )),
            }
        }
        for (key, slot) in [("command", 0), ("entryPoint", 1)] {
            let Some(v) = def.get(&k(key)) else { continue };
            let words = words(v, &format!("`{}` of `{name}`", k(key)), unknowns);
            if slot == 0 {
                c.command = words;
            } else {
                c.entry_point = words;
            }
        }
        if let Some(v) = def.get(&k("stopTimeout")) {
            match v.text().and_then(|t| t.trim().parse::<f64>().ok()) {
                Some(n) => c.stop_timeout = Some(At::new(n.max(0.0) as u64, v.span)),
                None if v.unknown().is_some() => {
                    note(unknowns, v, &format!("`{}` of `{name}`", k("stopTimeout")))
                }
                None => {}
            }
        }
        if let Some(Val::Arr(env)) = def.get(&k("environment")).map(|e| &e.val) {
            for e in env {
                let (Some(n), Some(v)) = (e.get(&k("name")), e.get(&k("value"))) else {
                    continue;
                };
                let Some(key) = n.str() else { continue };
                match v.text() {
                    Some(val) => c.environment.push((
                        At::new(key.to_string(), n.span),
                        At::new(val.to_string(), v.span),
                    )),
                    // Only uWSGI's own variables change what is checked.
                    None if key.starts_with("UWSGI_") && v.unknown().is_some() => {
                        note(unknowns, v, &format!("`{key}` of `{name}`"))
                    }
                    None => {}
                }
            }
        }
        if let Some(Val::Arr(ports)) = def.get(&k("portMappings")).map(|p| &p.val) {
            for p in ports {
                if let Some(v) = p.get(&k("containerPort"))
                    && let Some(n) = v.text().and_then(|t| t.trim().parse::<u16>().ok())
                {
                    c.container_ports.push(At::new(n, v.span));
                }
            }
        }
        out.containers.push(c);
    }
    out
}

/// A command or entry point: an array of strings. An unknown word is left
/// out with the option it is the value of (`--processes ${n}`); an unknown
/// array leaves an empty command, which runs nothing this tool can see.
fn words(v: &Tree, what: &str, unknowns: &mut Unknowns) -> Vec<At<String>> {
    match &v.val {
        Val::Arr(items) => {
            let mut out: Vec<At<String>> = Vec::new();
            for w in items {
                match w.text() {
                    Some(s) => out.push(At::new(s.to_string(), w.span)),
                    None if w.unknown().is_none() => {}
                    None => {
                        let flag = out.len() > 1
                            && out.last().is_some_and(|p| {
                                p.value.starts_with('-') && !p.value.contains('=')
                            });
                        let expr = w.unknown().unwrap_or("?");
                        let shown = match flag.then(|| out.pop()).flatten() {
                            Some(f) => format!("{} {expr}", f.value),
                            None => expr.to_string(),
                        };
                        unknowns.push(At::new(
                            format!("`{shown}` in {what} is known only once deployed: the command is read without it"),
                            w.span,
                        ));
                    }
                }
            }
            out
        }
        Val::Str(s) => crate::container::shell_form(&At::new(s.clone(), v.span)),
        Val::Unknown(_) => {
            note(unknowns, v, what);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// The known value of a placeholder, for substitution into a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Known {
    Num(String),
    Str(String),
    Bool(bool),
}

/// A byte range of the rewritten text and the range of the template it
/// stands for.
struct Piece {
    new: std::ops::Range<usize>,
    old: std::ops::Range<usize>,
}

/// Positions in the rewritten text back to the template.
struct Remap(Vec<Piece>);

impl Remap {
    fn map(&self, pos: usize, end: bool) -> usize {
        // An end touching a piece's start belongs before it.
        let i = self
            .0
            .partition_point(|p| p.new.start < pos || (!end && p.new.start == pos));
        let Some(p) = i.checked_sub(1).map(|i| &self.0[i]) else {
            return pos;
        };
        if pos < p.new.end || (end && pos == p.new.end) {
            if end { p.old.end } else { p.old.start }
        } else {
            pos - p.new.end + p.old.end
        }
    }

    fn span(&self, r: jsonc_parser::common::Range) -> Span {
        Span::new(self.map(r.start, false), self.map(r.end, true))
    }
}

/// Placeholder text safe inside a JSON string.
fn inert(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '"' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// End (exclusive) of the `${…}` whose `{` is at `at`, braces and quoted
/// strings inside the expression counted.
fn placeholder_end(b: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    let mut quote = false;
    while i < b.len() {
        match b[i] {
            b'\\' if quote => i += 1,
            b'"' => quote = !quote,
            b'{' if !quote => depth += 1,
            b'}' if !quote => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// JSON text with `${…}` placeholders (a Terraform template, envsubst):
/// each placeholder `known` answers is substituted, the others read as
/// [`Val::Unknown`]; `$${` is a literal `${`. Spans point into `text`.
/// Template directives (`%{ if }`) are not read: `Err` says so.
pub fn template_json(text: &str, known: &dyn Fn(&str) -> Option<Known>) -> Result<Tree, JsonError> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut pieces = Vec::new();
    let mut unknown: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut in_str = false;
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let c = b[i];
        if in_str && c == b'\\' {
            i += 2;
            continue;
        }
        if c == b'"' {
            in_str = !in_str;
            i += 1;
            continue;
        }
        let escape =
            (c == b'$' || c == b'%') && b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&b'{');
        if escape {
            out.push_str(&text[copied..i]);
            let start = out.len();
            out.push(c as char);
            out.push('{');
            pieces.push(Piece {
                new: start..out.len(),
                old: i..i + 3,
            });
            i += 3;
            copied = i;
            continue;
        }
        if c == b'%' && b.get(i + 1) == Some(&b'{') {
            return Err(JsonError {
                span: Span::new(i, i + 2),
                message:
                    "template directives (`%{ if … }`, `%{ for … }`) are known only once rendered"
                        .into(),
            });
        }
        if c == b'$' && b.get(i + 1) == Some(&b'{') {
            let Some(end) = placeholder_end(b, i + 1) else {
                return Err(JsonError {
                    span: Span::new(i, b.len()),
                    message: "a `${` placeholder is not closed".into(),
                });
            };
            out.push_str(&text[copied..i]);
            let start = out.len();
            let expr = text[i + 2..end - 1].trim();
            match known(expr) {
                Some(Known::Str(s)) if in_str => {
                    let quoted = serde_json::to_string(&s).unwrap_or_default();
                    out.push_str(quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(""));
                }
                Some(Known::Str(s)) => out.push_str(&serde_json::to_string(&s).unwrap_or_default()),
                Some(Known::Num(n)) => out.push_str(&n),
                Some(Known::Bool(v)) => out.push_str(if v { "true" } else { "false" }),
                None => {
                    let shown = inert(&text[i..end]);
                    if in_str {
                        out.push_str(&shown);
                    } else {
                        out.push('"');
                        out.push_str(&shown);
                        out.push('"');
                    }
                    unknown.push((start..out.len(), text[i..end].to_string()));
                }
            }
            pieces.push(Piece {
                new: start..out.len(),
                old: i..end,
            });
            i = end;
            copied = end;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    let remap = Remap(pieces);
    let ast =
        parse_to_ast(&out, &CollectOptions::default(), &ParseOptions::default()).map_err(|e| {
            JsonError {
                span: remap.span(e.range()),
                message: e.kind().to_string(),
            }
        })?;
    let Some(v) = ast.value else {
        return Err(JsonError {
            span: Span::default(),
            message: "no JSON value".into(),
        });
    };
    // Placeholders are in text order: the first ending after `r` starts is
    // the only one that can overlap it.
    let unknown_at = |r: jsonc_parser::common::Range| {
        let i = unknown.partition_point(|(u, _)| u.end <= r.start);
        unknown
            .get(i)
            .filter(|(u, _)| u.start < r.end)
            .map(|(_, t)| t.clone())
    };
    Ok(json_tree(&v, &|r| remap.span(r), &unknown_at, 0))
}

/// Plain JSON (no placeholders) as a tree.
pub fn json(text: &str) -> Result<Tree, JsonError> {
    let ast =
        parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default()).map_err(|e| {
            JsonError {
                span: Span::new(e.range().start, e.range().end),
                message: e.kind().to_string(),
            }
        })?;
    let Some(v) = ast.value else {
        return Err(JsonError {
            span: Span::default(),
            message: "no JSON value".into(),
        });
    };
    Ok(json_tree(&v, &|r| Span::new(r.start, r.end), &|_| None, 0))
}

fn json_tree(
    v: &Json,
    span: &dyn Fn(jsonc_parser::common::Range) -> Span,
    unknown: &dyn Fn(jsonc_parser::common::Range) -> Option<String>,
    depth: usize,
) -> Tree {
    use jsonc_parser::common::Ranged;
    let r = v.range();
    if let Some(expr) = unknown(r)
        && matches!(v, Json::StringLit(_) | Json::NumberLit(_))
    {
        return Tree::new(Val::Unknown(expr), span(r));
    }
    let val = match v {
        _ if depth > 64 => Val::Null,
        Json::StringLit(s) => Val::Str(s.value.to_string()),
        Json::NumberLit(n) => Val::Num(n.value.to_string()),
        Json::BooleanLit(b) => Val::Bool(b.value),
        Json::NullKeyword(_) => Val::Null,
        Json::Array(a) => Val::Arr(
            a.elements
                .iter()
                .map(|e| json_tree(e, span, unknown, depth + 1))
                .collect(),
        ),
        Json::Object(o) => Val::Obj(
            o.properties
                .iter()
                .map(|p| {
                    (
                        p.name.as_str().to_string(),
                        json_tree(&p.value, span, unknown, depth + 1),
                    )
                })
                .collect(),
        ),
    };
    Tree::new(val, span(r))
}

/// The task and container definitions of a task-shaped tree: an array of
/// container definitions, a task (`containerDefinitions`), or the output of
/// `describe-task-definition` (`taskDefinition`).
pub fn task_parts(t: &Tree, keys: Keys) -> Option<(Option<&Tree>, &Tree)> {
    match &t.val {
        Val::Arr(_) => Some((None, t)),
        Val::Obj(_) => {
            let root = t.get("taskDefinition").unwrap_or(t);
            root.get(&keys.key("containerDefinitions"))
                .map(|d| (Some(root), d))
        }
        _ => None,
    }
}

/// A JSON template by name: `task.json.tpl`, `.json.tmpl`, `.json.tftpl`,
/// `.json.template`.
pub fn is_json_template_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [".json.tpl", ".json.tmpl", ".json.tftpl", ".json.template"]
        .iter()
        .any(|s| n.ends_with(s))
}

/// An ECS task definition written as a template: its placeholders are
/// unknown, the rest is read; the containers join the project.
pub fn read_task_template(
    cx: &mut super::ReadContext,
    f: &std::path::Path,
    id: crate::source::FileId,
    text: &str,
) {
    let t = match template_json(text, &|_| None) {
        Ok(t) => t,
        Err(e) => {
            cx.not_read(
                id,
                e.span,
                format!("an ECS task definition template, not read: {}", e.message),
            );
            return;
        }
    };
    let Some((root, defs)) = task_parts(&t, Keys::Camel) else {
        return;
    };
    let mut unknowns = Vec::new();
    let task = task(root, defs, Keys::Camel, &mut unknowns);
    super::report_task(cx, id, &task, unknowns);
    cx.project
        .containers
        .extend(crate::container::ecs::containers(f, &task));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn none(_: &str) -> Option<Known> {
        None
    }

    #[test]
    fn placeholders_known_unknown_and_escaped() {
        let text = r#"[{"name": "web", "image": "${image}", "memory": ${memory}, "cpu": ${cpu},
  "command": ["uwsgi", "--ini", "/app/uwsgi.ini", "--processes", "${workers}"],
  "environment": [{"name": "X", "value": "$${HOME}"}]}]"#;
        let known = |e: &str| (e == "cpu").then(|| Known::Num("256".into()));
        let t = template_json(text, &known).unwrap();
        let Val::Arr(a) = &t.val else { panic!() };
        let web = &a[0];
        let mem = web.get("memory").unwrap();
        assert_eq!(mem.val, Val::Unknown("${memory}".into()));
        assert_eq!(&text[mem.span.range()], "${memory}");
        let cpu = web.get("cpu").unwrap();
        assert_eq!(cpu.val, Val::Num("256".into()));
        assert_eq!(&text[cpu.span.range()], "${cpu}");
        assert_eq!(
            web.get("image").unwrap().val,
            Val::Unknown("${image}".into())
        );
        let env = &web.get("environment").unwrap();
        let Val::Arr(env) = &env.val else { panic!() };
        assert_eq!(env[0].get("value").unwrap().val, Val::Str("${HOME}".into()));
        // Spans after a substitution still point at the template.
        let cmd = web.get("command").unwrap();
        let Val::Arr(words) = &cmd.val else { panic!() };
        assert_eq!(&text[words[2].span.range()], "\"/app/uwsgi.ini\"");
        let mut unknowns = Vec::new();
        let task = task(None, &t, Keys::Camel, &mut unknowns);
        let c = &task.containers[0];
        assert!(c.memory.is_none());
        assert_eq!(
            c.command
                .iter()
                .map(|w| w.value.as_str())
                .collect::<Vec<_>>(),
            vec!["uwsgi", "--ini", "/app/uwsgi.ini"]
        );
        assert_eq!(unknowns.len(), 2, "{unknowns:?}");
    }

    #[test]
    fn broken_templates_say_where() {
        assert!(template_json("[{\"a\": ${x", &none).is_err());
        let e = template_json("[%{ for x in y }{}%{ endfor }]", &none).unwrap_err();
        assert_eq!(e.span.start, 1);
        let e = template_json("[{\"a\": 1,, }]", &none).unwrap_err();
        assert!(e.span.start > 0);
        // Expressions with quotes stay inside their string.
        let t = template_json(r#"{"a": "${lookup(m, "k")}x"}"#, &none).unwrap();
        assert!(matches!(t.get("a").unwrap().val, Val::Unknown(_)));
    }

    #[test]
    fn pascal_keys_and_task_memory() {
        let t = json(r#"{"Memory": "1 GB", "ContainerDefinitions": [{"Name": "app", "MemoryReservation": 256, "StopTimeout": 20}]}"#).unwrap();
        let (task_t, defs) = task_parts(&t, Keys::Pascal).unwrap();
        let mut u = Vec::new();
        let task = task(task_t, defs, Keys::Pascal, &mut u);
        assert_eq!(
            task.memory.unwrap().value,
            crate::units::Bytes::from_mib(1024)
        );
        assert_eq!(task.containers[0].stop_timeout.as_ref().unwrap().value, 20);
        assert!(u.is_empty());
    }

    /// Reads every AWS format from in-memory files, as the walk would.
    pub(crate) fn read_all(files: &[(&str, String)]) -> usize {
        use crate::readers::{Candidate, Claimed, ReadContext};
        let overlay = {
            let mut o = crate::input::Overlay::new();
            for (p, t) in files {
                o.insert(std::path::Path::new(p), t.as_bytes().to_vec());
            }
            o
        };
        let mut sources = crate::source::SourceMap::new();
        let mut claimed = Claimed::new();
        for (p, t) in files {
            let path = std::path::Path::new(p);
            let name = path.file_name().unwrap().to_str().unwrap();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            let read = || Ok(t.as_bytes().to_vec());
            claimed.offer(&Candidate::new(path, name, ext, &read));
        }
        let mut cx = ReadContext {
            overlay: &overlay,
            sources: &mut sources,
            cwd: std::path::PathBuf::from("/p"),
            ids: Default::default(),
            problems: Vec::new(),
            not_read: Vec::new(),
            roots: &[],
            nginx_prefix: None,
            project: Default::default(),
            nginx_ids: Vec::new(),
            embedded: Default::default(),
            embedded_configs: Vec::new(),
            prefetched: Default::default(),
        };
        cx.read_all(&claimed);
        cx.project.containers.len() + cx.problems.len()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        #[test]
        fn templates_never_panic(text in r#"([\[\]{}:,"0-9a-z .-]|\$\{|\$\$\{|%\{|%%\{|\}|\\|memory|command|é){0,60}"#) {
            let _ = template_json(&text, &|e| (e == "a").then(|| Known::Str("x\"y".into())));
            let _ = json(&text);
        }

        #[test]
        fn aws_readers_never_panic(body in r#"(resource|"aws_ecs_task_definition"|container_definitions|jsonencode|templatefile|file|\(|\)|"t.json"|=|\{|\}|\[|\]|var\.x|local\.y|data\.template_file\.z\.rendered|<<EOF\n|\nEOF\n|\$\{|"|memory|[0-9]{1,4}|,|\n| ){0,60}"#,
                                   tpl in r#"([\[\]{}:,"0-9a-z .-]|\$\{|\}|memory|command){0,40}"#,
                                   yaml in r#"(Resources:\n|  T:\n|    Type: AWS::ECS::TaskDefinition\n|    Properties:\n|      Memory: |!Ref |!Sub |ContainerDefinitions:|- |Command: |\[|\]|\{|\}|Fn::If|Ref|[0-9]{1,4}|[a-z]{1,5}|\n|  |: ){0,40}"#) {
            read_all(&[
                ("/p/main.tf", format!("resource \"aws_ecs_task_definition\" \"t\" {{\n{body}\n}}\n")),
                ("/p/t.json", tpl.clone()),
                ("/p/stack.yaml", format!("AWSTemplateFormatVersion: x\n{yaml}")),
                ("/p/copilot/web/manifest.yml", format!("name: web\nmemory: {tpl}\ncommand: {yaml}\n")),
            ]);
        }
    }

    #[test]
    fn the_readers_claim_and_read_each_format() {
        let n = read_all(&[
            (
                "/p/main.tf",
                "resource \"aws_ecs_task_definition\" \"t\" {\n  memory = 512\n  container_definitions = jsonencode([{ name = \"a\" }])\n}\n".into(),
            ),
            (
                "/p/stack.yaml",
                "Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: b\n".into(),
            ),
            ("/p/copilot/web/manifest.yml", "name: web\nmemory: 512\n".into()),
        ]);
        assert_eq!(n, 3);
    }
}
