//! uWSGI's built-in YAML reader (`core/yaml.c` without libyaml), which is
//! what pip builds of uWSGI use. It is line based and not YAML proper:
//!
//! - `#` starts a comment anywhere on a line (even inside a value);
//! - indentation is counted (space = 1, tab or `\r` = 8); the section is a
//!   top-level `name:` line, and the first line that is not indented deeper
//!   than it ends the section;
//! - inside it, each line must be `key: value` (or `key:<tab>value`); a line
//!   without that, or a list item (`-`, `[`, `{`), ends the parse;
//! - quotes are kept and a trailing `\r` stays in the value.

use crate::source::Span;

/// One `key: value` uWSGI collects, as spans into the (substituted) text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlEntry {
    pub line: Span,
    pub key: Span,
    pub value: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlRead {
    pub entries: Vec<YamlEntry>,
    pub found_section: bool,
    /// Top-level `name:` keys seen (for "section not found" messages).
    pub sections: Vec<Span>,
}

fn lstrip(b: &[u8], mut s: Span) -> Span {
    while s.start < s.end && matches!(b[s.start], b' ' | b'\t' | b'\r') {
        s.start += 1;
    }
    s
}

fn rstrip(b: &[u8], mut s: Span) -> Span {
    // uWSGI's yaml_rstrip strips blanks and tabs, not `\r`.
    while s.end > s.start && matches!(b[s.end - 1], b' ' | b'\t') {
        s.end -= 1;
    }
    s
}

/// Read the entries of `section` from `text` as uWSGI does.
pub fn read(text: &[u8], section: &[u8]) -> YamlRead {
    let mut out = YamlRead {
        entries: Vec::new(),
        found_section: false,
        sections: Vec::new(),
    };
    let mut in_section = false;
    let mut current_depth = 0usize;
    let mut start = 0;
    while start < text.len() {
        let nl = text[start..].iter().position(|&b| b == b'\n');
        let end = nl.map_or(text.len(), |i| start + i);
        let next = nl.map_or(text.len(), |_| end + 1);
        // The visible line: up to a `#` or a NUL (C strings).
        let visible = text[start..end]
            .iter()
            .position(|&b| b == b'#' || b == 0)
            .map_or(end, |i| start + i);
        let line = Span::new(start, visible);
        start = next;
        if line.is_empty() {
            continue;
        }
        let depth: usize = text[line.range()]
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\r'))
            .map(|&b| if b == b' ' { 1 } else { 8 })
            .sum();
        if depth <= current_depth {
            current_depth = depth;
            if in_section {
                return out;
            }
        } else if !in_section {
            continue;
        }
        let key = lstrip(text, line);
        if key.is_empty() {
            continue;
        }
        if matches!(text[key.start], b'-' | b'[' | b'{') {
            if in_section {
                return out;
            }
            continue;
        }
        let body = &text[key.range()];
        if !in_section {
            if let Some(colon) = body.iter().position(|&b| b == b':') {
                let name = Span::new(key.start, key.start + colon);
                out.sections.push(name);
                if &text[name.range()] == section {
                    in_section = true;
                    out.found_section = true;
                }
            }
            continue;
        }
        let sep = body.windows(2).position(|w| w == b": " || w == b":\t");
        let Some(sep) = sep else {
            return out;
        };
        let k = rstrip(text, Span::new(key.start, key.start + sep));
        let v = rstrip(text, lstrip(text, Span::new(key.start + sep + 2, key.end)));
        out.entries.push(YamlEntry {
            line,
            key: k,
            value: v,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &[u8], r: &YamlRead) -> Vec<(String, String)> {
        r.entries
            .iter()
            .map(|e| {
                (
                    String::from_utf8_lossy(&text[e.key.range()]).into(),
                    String::from_utf8_lossy(&text[e.value.range()]).into(),
                )
            })
            .collect()
    }

    #[test]
    fn reads_like_uwsgi() {
        let t = b"other:\n  x: 1\nuwsgi:\n    master: 1 # on\n    module: \"app\"\n\n    harakiri:\t30 \nnext: 1\n";
        let r = read(t, b"uwsgi");
        assert!(r.found_section);
        assert_eq!(
            kv(t, &r),
            vec![
                ("master".into(), "1".into()),
                ("module".into(), "\"app\"".into()),
                ("harakiri".into(), "30".into()),
            ]
        );
    }

    #[test]
    fn key_without_value_ends_the_parse() {
        let t = b"uwsgi:\n  master: 1\n  vacuum:\n  processes: 4\n";
        assert_eq!(kv(t, &read(t, b"uwsgi")).len(), 1);
    }

    #[test]
    fn crlf_keeps_cr_in_values() {
        let t = b"uwsgi:\r\n  processes: 4\r\n";
        assert_eq!(
            kv(t, &read(t, b"uwsgi")),
            vec![("processes".into(), "4\r".into())]
        );
    }
}
