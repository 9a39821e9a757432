//! YAML with byte spans for Compose and Kubernetes files.
//!
//! saphyr's `MarkedYaml` gives character positions and leaves `<<` merge
//! keys to the caller; this module turns a document into a small owned tree
//! with byte spans into the file and merge keys applied (a key written in the
//! mapping wins over a merged one, as YAML 1.1 merge keys say).

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// A node with a local tag (`!Ref x`, `!Sub …`), only from
    /// [`parse_keeping_tags`]; [`parse`] reads through tags.
    Tagged(String, Box<Node>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub span: Span,
    pub message: String,
}

impl Node {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follow a path of mapping keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as the text a human wrote (numbers and booleans included).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }
}

/// Character index → byte offset for one text.
struct Offsets(Vec<usize>);

impl Offsets {
    fn new(text: &str) -> Self {
        let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        v.push(text.len());
        Offsets(v)
    }

    fn byte(&self, chars: usize) -> usize {
        self.0
            .get(chars)
            .copied()
            .unwrap_or(*self.0.last().unwrap_or(&0))
    }
}

/// Most bytes a file may stand for once its aliases are expanded: saphyr
/// copies an anchored node for every alias, and bounds their number but not
/// their size (a 1 MiB anchor aliased 2,000 times is 2 GB).
pub const MAX_EXPANDED: usize = 64 << 20;

/// What one node costs besides its text (a rough per-node overhead).
const NODE_COST: usize = 32;

/// The size of `text`'s documents with every alias expanded, counted on the
/// parser's events (linear in the text; nothing is copied), or the error
/// that stops the parser.
fn expanded_size(text: &str) -> Result<usize, YamlError> {
    use saphyr_parser::{Event, Parser};
    let mut anchors: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    // (anchor id, size so far) of each open collection, then the total.
    let mut open: Vec<(usize, usize)> = vec![(0, 0)];
    for ev in Parser::new_from_str(text) {
        let (ev, _) = ev.map_err(|e| YamlError {
            span: Span::new(0, 0),
            message: e.info().to_string(),
        })?;
        let done = match ev {
            Event::Scalar(v, _, anchor, _) => Some((anchor, v.len() + NODE_COST)),
            Event::Alias(id) => Some((0, anchors.get(&id).copied().unwrap_or(NODE_COST))),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, NODE_COST));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => open.pop(),
            _ => None,
        };
        if let Some((anchor, size)) = done {
            if anchor > 0 {
                anchors.insert(anchor, size);
            }
            let Some(parent) = open.last_mut() else {
                break;
            };
            parent.1 = parent.1.saturating_add(size);
            if parent.1 > MAX_EXPANDED {
                return Ok(parent.1);
            }
        }
    }
    Ok(open.first().map_or(0, |t| t.1))
}

/// Every document of `text`.
pub fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_with(text, false)
}

/// Every document of `text`, local tags kept as [`Value::Tagged`]
/// (CloudFormation's `!Ref`/`!Sub` are functions, not the value they wrap).
pub fn parse_keeping_tags(text: &str) -> Result<Vec<Node>, YamlError> {
    parse_with(text, true)
}

fn parse_with(text: &str, tags: bool) -> Result<Vec<Node>, YamlError> {
    let offsets = Offsets::new(text);
    // Sizes only grow towards the root, so any open collection over the
    // budget means the whole is.
    if expanded_size(text).is_ok_and(|n| n > MAX_EXPANDED) {
        return Err(YamlError {
            span: Span::new(0, 0),
            message: format!(
                "its aliases expand it to more than {}; not read",
                crate::units::Bytes(MAX_EXPANDED as u64)
            ),
        });
    }
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        let at = offsets.byte(e.marker().index());
        YamlError {
            span: Span::new(at, at),
            message: e.info().to_string(),
        }
    })?;
    Ok(docs.iter().map(|d| convert(d, &offsets, 0, tags)).collect())
}

fn convert(y: &MarkedYaml, offsets: &Offsets, depth: usize, tags: bool) -> Node {
    let start = offsets.byte(y.span.start.index());
    let end = offsets.byte(y.span.end.index()).max(start);
    let span = Span::new(start, end);
    // saphyr already bounds alias expansion; this bounds nesting.
    if depth > 64 {
        return Node {
            value: Value::Null,
            span,
        };
    }
    let value = match &y.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(s, _, _) => Value::Str(s.to_string()),
        YamlData::Sequence(items) => Value::Seq(
            items
                .iter()
                .map(|i| convert(i, offsets, depth + 1, tags))
                .collect(),
        ),
        YamlData::Mapping(m) => {
            let mut own: Vec<(Node, Node)> = Vec::new();
            let mut merged: Vec<(Node, Node)> = Vec::new();
            for (k, v) in m {
                let k = convert(k, offsets, depth + 1, tags);
                let v = convert(v, offsets, depth + 1, tags);
                if k.as_str() == Some("<<") {
                    // `<<: *a` or `<<: [*a, *b]` (earlier ones win).
                    let sources: Vec<&Node> = match &v.value {
                        Value::Seq(s) => s.iter().collect(),
                        _ => vec![&v],
                    };
                    for src in sources {
                        for (mk, mv) in src.entries() {
                            if !merged.iter().any(|(x, _)| x.value == mk.value) {
                                merged.push((mk.clone(), mv.clone()));
                            }
                        }
                    }
                } else {
                    own.push((k, v));
                }
            }
            for (mk, mv) in merged {
                if !own.iter().any(|(x, _)| x.value == mk.value) {
                    own.push((mk, mv));
                }
            }
            Value::Map(own)
        }
        YamlData::Tagged(tag, inner) if tags => Value::Tagged(
            format!("{}{}", tag.handle, tag.suffix),
            Box::new(convert(inner, offsets, depth + 1, tags)),
        ),
        YamlData::Tagged(_, inner) => return convert(inner, offsets, depth + 1, tags),
        YamlData::Alias(_) | YamlData::BadValue => Value::Null,
    };
    // A scalar's span from saphyr may stop short of a quoted value's closing
    // quote; it always starts at the value, which is what labels need.
    Node { value, span }
}

fn scalar(s: &Scalar) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Int(*i),
        Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
        Scalar::String(s) => Value::Str(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_bytes_and_merge_keys_apply() {
        let text = "# é\nx: &base\n  mem_limit: 1g\n  cpus: 2\ny:\n  <<: *base\n  cpus: 4\n";
        let docs = parse(text).unwrap();
        let y = docs[0].get("y").unwrap();
        assert_eq!(y.get("cpus").unwrap().value, Value::Int(4));
        let m = y.get("mem_limit").unwrap();
        assert_eq!(m.as_str(), Some("1g"));
        assert_eq!(&text[m.span.start..m.span.start + 2], "1g");
    }

    #[test]
    fn multi_documents_and_errors_have_positions() {
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap().len(), 2);
        let e = parse("a: [1, 2\n").unwrap_err();
        assert!(e.span.start > 0, "{e:?}");
        assert!(parse("a: 1\na: 2\n").is_err());
    }

    #[test]
    fn aliases_are_counted_before_they_are_copied() {
        // 1 MiB anchored once, aliased 2,000 times: 2 GB once expanded.
        let mut text = format!("a: &big \"{}\"\nb:\n", "x".repeat(1 << 20));
        for _ in 0..2000 {
            text.push_str("  - *big\n");
        }
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("more than 64 MiB"), "{e:?}");
        // Nested: each level doubles.
        let mut text = String::from("l0: &l0 [\"xxxxxxxxxxxxxxxx\", \"y\"]\n");
        for i in 1..40 {
            text.push_str(&format!("l{i}: &l{i} [*l{}, *l{}]\n", i - 1, i - 1));
        }
        assert!(parse(&text).is_err());
        // Ordinary anchors are fine.
        let ok = "x: &base\n  cpus: 2\ny:\n  <<: *base\n";
        assert!(expanded_size(ok).unwrap() < 1024);
        assert!(parse(ok).is_ok());
    }
}
