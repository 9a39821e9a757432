//! Helm chart templates read without rendering them: what is literal in a
//! template is read, what a Go template action computes stays unknown.
//!
//! [`mask`] turns a template into YAML of the same length, line for line:
//! control actions (`if`, `with`, `range`, `end` …) and actions alone on
//! their line become blanks; an action inside a line (`image: {{ .Values.image }}`)
//! becomes a run of `_` (a plain scalar whose text is unknown), unless it
//! is a plain value of `values.yaml` (`{{ .Values.workers }}`), written in
//! its place (padded with blanks). Branches are kept or
//! dropped when their condition is a value of `values.yaml`
//! (`.Values.x.enabled`, `not …`); a branch whose condition needs rendering
//! and every `range` body are blanked and reported as unread. A
//! `toYaml .Values.x.resources` (or `toYaml .` inside `with .Values.x.resources`)
//! is recorded as a splice: the reader takes that values node in its place.

use super::yaml::{Node, Value};
use crate::source::Span;

/// `toYaml` of a values path, at a byte offset of the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub at: usize,
    /// The path below `.Values` (`["components", "web", "resources"]`).
    pub path: Vec<String>,
}

/// A template read as YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// The template, same length and lines, actions masked.
    pub text: String,
    pub splices: Vec<Splice>,
    /// Text blanked because what it stands for needs rendering (a condition
    /// not in the values, a `range`): the first action of each.
    pub unread: Vec<Span>,
    /// Where the text is unknown: values masked with `_`, and text blanked
    /// because it needs rendering.
    pub opaque: Vec<Span>,
}

impl Masked {
    /// Is anything in `span` unknown?
    pub fn unknown_in(&self, span: Span) -> bool {
        // `opaque` is in text order and its spans do not overlap.
        let end = span.end.max(span.start + 1);
        let i = self
            .opaque
            .partition_point(|o| o.end.max(o.start + 1) <= span.start);
        self.opaque.get(i).is_some_and(|o| o.start < end)
    }
}

/// A values scalar written as is wherever it stands (plain YAML, inside
/// quotes, an ini value): numbers, booleans, and strings of name-like
/// characters.
fn plain_scalar(n: &Node) -> Option<String> {
    let t = match &n.value {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => n.scalar_text()?,
        Value::Str(s) => s.clone(),
        _ => return None,
    };
    t.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/:@-".contains(c))
        .then_some(t)
}

/// One `{{ … }}` action: its span and its words (trim markers and comments
/// removed).
#[derive(Debug)]
struct Action {
    span: Span,
    inner: String,
}

/// The actions of a template, in order; an unclosed `{{` ends the list.
fn actions(text: &str) -> Vec<Action> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(open) = text[i..].find("{{").map(|o| i + o) {
        // A `}}` inside a quoted string argument does not close the action.
        let bytes = text.as_bytes();
        let mut j = open + 2;
        let mut quote: Option<u8> = None;
        let close = loop {
            match (bytes.get(j), quote) {
                (None, _) => break None,
                (Some(b'\\'), Some(b'"')) => j += 1,
                (Some(&q), Some(open_q)) if q == open_q => quote = None,
                (Some(b'"' | b'`'), None) => quote = Some(bytes[j]),
                (Some(b'}'), None) if bytes.get(j + 1) == Some(&b'}') => break Some(j),
                _ => {}
            }
            j += 1;
        };
        let Some(close) = close else { break };
        let inner = text[open + 2..close]
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim();
        let inner = if inner.starts_with("/*") { "" } else { inner };
        out.push(Action {
            span: Span::new(open, close + 2),
            inner: inner.to_string(),
        });
        i = close + 2;
    }
    out
}

/// Is a branch's text kept, dropped, or unknown?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Yes,
    No,
    Unknown,
}

/// An open block: its own state, whether a branch was taken already, the
/// values path of a `with`; and what the blocks around it say (kept so
/// that each action costs the same however deep the nesting).
struct Frame {
    keep: Keep,
    taken: bool,
    unknown: bool,
    with_path: Option<Vec<String>>,
    /// The state of the blocks around it.
    outer: Keep,
    /// The nearest `with` path around it.
    outer_with: Option<Vec<String>>,
}

/// A branch inside another: dropped if either is, else unknown if either is.
fn within(outer: Keep, own: Keep) -> Keep {
    match (outer, own) {
        (Keep::No, _) | (_, Keep::No) => Keep::No,
        (Keep::Unknown, _) | (_, Keep::Unknown) => Keep::Unknown,
        _ => Keep::Yes,
    }
}

fn state(stack: &[Frame]) -> Keep {
    stack.last().map_or(Keep::Yes, |f| within(f.outer, f.keep))
}

fn nearest_with(stack: &[Frame]) -> Option<Vec<String>> {
    let f = stack.last()?;
    f.with_path.clone().or_else(|| f.outer_with.clone())
}

/// Open a block inside the others.
fn open(stack: &mut Vec<Frame>, keep: Keep, with_path: Option<Vec<String>>) {
    let outer = state(stack);
    let outer_with = nearest_with(stack);
    stack.push(Frame {
        keep,
        taken: keep == Keep::Yes,
        unknown: keep == Keep::Unknown,
        with_path,
        outer,
        outer_with,
    });
}

/// A values path written `.Values.a.b` or `$.Values.a.b`.
fn values_path(word: &str) -> Option<Vec<String>> {
    let rest = word
        .strip_prefix(".Values.")
        .or_else(|| word.strip_prefix("$.Values."))?;
    let parts: Vec<String> = rest.split('.').map(str::to_string).collect();
    parts
        .iter()
        .all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
        .then_some(parts)
}

fn truthy(n: Option<&Node>) -> bool {
    match n.map(|n| &n.value) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Int(i)) => *i != 0,
        Some(Value::Float(f)) => *f != 0.0,
        Some(Value::Str(s)) => !s.is_empty(),
        Some(Value::Seq(s)) => !s.is_empty(),
        Some(Value::Map(m)) => !m.is_empty(),
        Some(Value::Tagged(_, inner)) => truthy(Some(inner)),
    }
}

fn lookup<'a>(values: &'a Node, path: &[String]) -> Option<&'a Node> {
    path.iter().try_fold(values, |n, k| n.get(k))
}

/// A condition's truth from the values: `.Values.x`, `not .Values.x`
/// (parentheses around either); anything else needs rendering.
fn eval(cond: &str, values: Option<&Node>) -> Keep {
    let Some(values) = values else {
        return Keep::Unknown;
    };
    let words: Vec<&str> = cond
        .split_whitespace()
        .map(|w| w.trim_matches(['(', ')']))
        .filter(|w| !w.is_empty())
        .collect();
    let (negate, word) = match words[..] {
        [w] => (false, w),
        ["not", w] => (true, w),
        _ => return Keep::Unknown,
    };
    let Some(path) = values_path(word) else {
        return Keep::Unknown;
    };
    if truthy(lookup(values, &path)) != negate {
        Keep::Yes
    } else {
        Keep::No
    }
}

/// For each action, is it alone on its line (blanks and the other
/// actions of the line aside)? Linear in the text: the lines are found by
/// binary search in the newline offsets, and each line is looked at once.
fn alone_on_lines(text: &str, acts: &[Action]) -> Vec<bool> {
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let line_end = |pos: usize| {
        let k = newlines.partition_point(|n| *n < pos);
        newlines.get(k).copied().unwrap_or(text.len())
    };
    let line_start = |pos: usize| {
        let k = newlines.partition_point(|n| *n < pos);
        if k == 0 { 0 } else { newlines[k - 1] + 1 }
    };
    let mut out = vec![false; acts.len()];
    let mut i = 0;
    while i < acts.len() {
        let start = line_start(acts[i].span.start);
        // The actions of this line (one may run over several).
        let mut j = i;
        let mut end = line_end(acts[j].span.end);
        while j + 1 < acts.len() && acts[j + 1].span.start < end {
            j += 1;
            end = line_end(acts[j].span.end);
        }
        let mut blank = true;
        let mut at = start;
        for a in &acts[i..=j] {
            blank &= text[at..a.span.start].trim().is_empty();
            at = a.span.end;
        }
        blank &= text[at..end].trim().is_empty();
        out[i..=j].fill(blank);
        i = j + 1;
    }
    out
}

/// Mask an inline action with `_` and letters drawn from its text (FNV-1a),
/// on its first line; the lines after it blank.
fn stamp(out: &mut [u8], span: Span, inner: &str) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in inner.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut first_line = true;
    for (i, b) in out[span.range()].iter_mut().enumerate() {
        if *b == b'\n' {
            first_line = false;
        } else if first_line && (1..=6).contains(&i) {
            *b = b'a' + ((h >> (5 * (i - 1))) % 26) as u8;
        } else {
            *b = if first_line { b'_' } else { b' ' };
        }
    }
}

/// Read a template as YAML with the chart's values (see the module doc).
pub fn mask(text: &str, values: Option<&Node>) -> Masked {
    let acts = actions(text);
    let alone = alone_on_lines(text, &acts);
    let mut out: Vec<u8> = text.as_bytes().to_vec();
    // An action over several lines stands for a value on its first line:
    // the lines after it are blank.
    let blank = |out: &mut Vec<u8>, span: Span, with: u8| {
        let mut fill = with;
        for b in &mut out[span.start..span.end] {
            if *b == b'\n' {
                fill = b' ';
            } else {
                *b = fill;
            }
        }
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut splices = Vec::new();
    let mut unread = Vec::new();
    let mut opaque = Vec::new();
    let mut prev_end = 0;
    for (n, a) in acts.iter().enumerate() {
        // The text since the previous action, as the open blocks say.
        match state(&stack) {
            Keep::Yes => {}
            Keep::No => blank(&mut out, Span::new(prev_end, a.span.start), b' '),
            Keep::Unknown => {
                blank(&mut out, Span::new(prev_end, a.span.start), b' ');
                opaque.push(Span::new(prev_end, a.span.start));
            }
        }
        prev_end = a.span.end;
        let first = a.inner.split_whitespace().next().unwrap_or("");
        let rest = a.inner[first.len()..].trim();
        let mut structural = true;
        match first {
            "if" | "with" => {
                let keep = eval(rest, values);
                let with_path = (first == "with")
                    .then(|| {
                        let w: Vec<&str> = rest.split_whitespace().collect();
                        match w[..] {
                            [p] => values_path(p),
                            _ => None,
                        }
                    })
                    .flatten();
                if keep == Keep::Unknown && state(&stack) == Keep::Yes {
                    unread.push(a.span);
                }
                open(&mut stack, keep, with_path);
            }
            "range" => {
                // Over an empty (or absent) values list: no output at all.
                let over = rest.rsplit(":=").next().unwrap_or(rest).trim();
                let keep = match (values, values_path(over)) {
                    (Some(v), Some(p)) if !truthy(lookup(v, &p)) => Keep::No,
                    _ => Keep::Unknown,
                };
                if keep == Keep::Unknown && state(&stack) == Keep::Yes {
                    unread.push(a.span);
                }
                open(&mut stack, keep, None);
            }
            "define" | "block" => {
                open(&mut stack, Keep::No, None);
                if let Some(f) = stack.last_mut() {
                    f.taken = true;
                }
            }
            "else" => {
                if let Some(f) = stack.last_mut() {
                    let outer = f.outer;
                    let cond = rest
                        .strip_prefix("if ")
                        .or_else(|| rest.strip_prefix("with "));
                    f.keep = if f.taken {
                        Keep::No
                    } else if f.unknown {
                        Keep::Unknown
                    } else {
                        match cond {
                            Some(c) => eval(c, values),
                            None => Keep::Yes,
                        }
                    };
                    f.with_path = None;
                    f.taken |= f.keep == Keep::Yes;
                    if f.keep == Keep::Unknown && !f.unknown && outer == Keep::Yes {
                        unread.push(a.span);
                    }
                    f.unknown |= f.keep == Keep::Unknown;
                }
            }
            "end" => {
                stack.pop();
            }
            _ => structural = false,
        }
        // A `toYaml` of a values node: the reader puts that node here.
        if !structural && state(&stack) == Keep::Yes && a.inner.contains("toYaml") {
            let words: Vec<&str> = a
                .inner
                .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '|')
                .filter(|w| !w.is_empty())
                .collect();
            let arg = words
                .iter()
                .position(|w| *w == "toYaml")
                .and_then(|i| words.get(i + 1));
            let path = match arg {
                Some(&".") => nearest_with(&stack),
                Some(w) => values_path(w),
                None => None,
            };
            if let Some(path) = path {
                splices.push(Splice {
                    at: a.span.start,
                    path,
                });
            }
        }
        // A plain value of the values file, written in its place.
        if !structural && state(&stack) == Keep::Yes {
            let known = values
                .zip(values_path(&a.inner))
                .and_then(|(v, p)| plain_scalar(lookup(v, &p)?))
                .filter(|t| t.len() <= a.span.len() && !text[a.span.range()].contains('\n'));
            if let Some(t) = known {
                let slot = &mut out[a.span.range()];
                slot.fill(b' ');
                slot[..t.len()].copy_from_slice(t.as_bytes());
                continue;
            }
        }
        let alone = alone[n];
        // (Inside a dropped or unread branch everything is blank.)
        let fill = if structural
            || alone
            || a.inner.is_empty()
            || a.inner.contains("toYaml")
            || state(&stack) != Keep::Yes
        {
            b' '
        } else {
            b'_'
        };
        if fill == b'_' {
            opaque.push(a.span);
            // The same expression stands for the same value (a ConfigMap
            // named `{{ .Release.Name }}-uwsgi` where it is defined and
            // where it is mounted): its mask is a pattern of its text.
            stamp(&mut out, a.span, &a.inner);
            continue;
        }
        blank(&mut out, a.span, fill);
    }
    if state(&stack) != Keep::Yes {
        blank(&mut out, Span::new(prev_end, text.len()), b' ');
        if state(&stack) == Keep::Unknown {
            opaque.push(Span::new(prev_end, text.len()));
        }
    }
    // Only ASCII bytes were replaced, and whole multi-byte characters
    // (inside blanked ranges) by spaces: still UTF-8.
    let text = String::from_utf8(out).unwrap_or_default();
    Masked {
        text,
        splices,
        unread,
        opaque,
    }
}

/// The values node at `path`.
pub fn value_at<'a>(values: &'a Node, path: &[String]) -> Option<&'a Node> {
    lookup(values, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::yaml;

    const VALUES: &str = "debug:\n  enabled: false\nenv:\n  A: b\nweb:\n  resources:\n    limits:\n      memory: 1Gi\n";

    const TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
spec:
  replicas: {{ if .Values.debug.enabled -}} 0 {{- else -}} 2 {{- end }}
  template:
    spec:
      containers:
      - name: web
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        {{- if .Values.debug.enabled }}
        command: ["flask", "run"]
        {{- else }}
        command: ["uwsgi", "--ini", "/etc/uwsgi/uwsgi.ini"]
        {{- end }}
        resources:
          {{- with .Values.web.resources }}
          {{- toYaml . | nindent 10 }}
          {{- end }}
        env:
          {{- range $k, $v := .Values.env }}
          - name: {{ $k }}
            value: {{ $v | quote }}
          {{- end }}
"#;

    #[test]
    fn a_template_reads_as_yaml_of_the_same_lines() {
        let values = &yaml::parse(VALUES).unwrap()[0];
        let m = mask(TEMPLATE, Some(values));
        assert_eq!(m.text.len(), TEMPLATE.len());
        assert_eq!(m.text.lines().count(), TEMPLATE.lines().count());
        let docs = yaml::parse(&m.text).unwrap_or_else(|e| panic!("{e:?}\n{}", m.text));
        let spec = docs[0].at(&["spec", "template", "spec"]).unwrap();
        let c = &spec.get("containers").unwrap().as_seq()[0];
        let cmd: Vec<String> = c
            .get("command")
            .unwrap()
            .as_seq()
            .iter()
            .filter_map(Node::scalar_text)
            .collect();
        assert_eq!(cmd, ["uwsgi", "--ini", "/etc/uwsgi/uwsgi.ini"]);
        assert_eq!(
            docs[0].at(&["spec", "replicas"]).unwrap().value,
            Value::Int(2)
        );
        // The image is unknown: the template holds `{{` at its span.
        let image = c.get("image").unwrap();
        assert!(TEMPLATE[image.span.start..].starts_with("\"{{"));
        assert_eq!(m.splices.len(), 1);
        assert_eq!(m.splices[0].path, ["web", "resources"]);
        assert_eq!(
            value_at(values, &m.splices[0].path)
                .and_then(|r| r.at(&["limits", "memory"]))
                .and_then(Node::as_str),
            Some("1Gi")
        );
        assert!(m.unknown_in(image.span));
        // The range over the environment is what stays unread.
        assert_eq!(m.unread.len(), 1);
        assert!(TEMPLATE[m.unread[0].start..].starts_with("{{- range"));
    }

    #[test]
    fn conditions_the_values_do_not_decide_are_unread() {
        let t = "a: 1\n{{- if eq .Values.x \"y\" }}\nb: 2\n{{- else }}\nb: 3\n{{- end }}\n";
        let m = mask(t, Some(&yaml::parse("x: y\n").unwrap()[0]));
        let docs = yaml::parse(&m.text).unwrap();
        assert!(docs[0].get("b").is_none());
        assert_eq!(m.unread.len(), 1);
        // Without values nothing is decided either.
        let m = mask("{{- if .Values.on }}\na: 1\n{{- end }}\n", None);
        assert!(m.text.trim().is_empty());
        // A range over an empty list outputs nothing: nothing unread.
        let t = "a:\n{{- range .Values.env }}\n  - {{ . }}\n{{- end }}\n";
        let m = mask(t, Some(&yaml::parse("env: []\n").unwrap()[0]));
        assert!(m.unread.is_empty() && !m.text.contains('_'), "{m:?}");
        // Plain values are written in place (padded); others stay unknown.
        let v = &yaml::parse("n: 4\ns: a b\n").unwrap()[0];
        let m = mask("a = {{ .Values.n }}\nb = {{ .Values.s }}\n", Some(v));
        assert!(
            m.text
                .starts_with(&format!("a = 4{}\nb = _", " ".repeat(14)))
        );
        assert_eq!(m.text.len(), 40);
        assert!(!m.unknown_in(Span::new(0, 10)) && m.unknown_in(Span::new(24, 30)));
        // `}}` inside a string does not close an action; comments vanish.
        let m = mask("a: {{ printf \"}}\" }}\n{{/* note */}}\n", None);
        assert_eq!(m.text.len(), 36);
        assert!(m.text.starts_with("a: _"));
        assert!(m.text.ends_with(&format!("_\n{}\n", " ".repeat(14))));
        // One expression, one mask; another, another.
        let t = "a: {{ .Release.Name }}-x\nb: {{ .Release.Name }}-x\nc: {{ .Chart.Name }}-xx\n";
        let m = mask(t, None);
        let l: Vec<&str> = m.text.lines().map(|l| &l[3..]).collect();
        assert_eq!(l[0], l[1]);
        assert_ne!(l[0], l[2]);
    }
}
