//! Conversions between the library's byte spans and the protocol's positions,
//! paths and URIs, and diagnostics.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types as lsp;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceFile, SourceMap, Span};

/// The negotiated position encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// UTF-8 when the client offers it (no conversion needed), else UTF-16,
    /// which every client supports.
    pub fn negotiate(offered: Option<&[lsp::PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(list) if list.contains(&lsp::PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> lsp::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        }
    }
}

/// A byte offset of `file` as a protocol position.
pub fn position(file: &SourceFile, offset: usize, enc: Encoding) -> lsp::Position {
    let (line, col) = match enc {
        Encoding::Utf8 => file.lines.utf8_position(&file.bytes, offset),
        Encoding::Utf16 => file.lines.utf16_position(&file.bytes, offset),
    };
    lsp::Position::new(line as u32, col as u32)
}

pub fn range(file: &SourceFile, span: Span, enc: Encoding) -> lsp::Range {
    lsp::Range::new(
        position(file, span.start, enc),
        position(file, span.end, enc),
    )
}

/// A protocol position in `file` as a byte offset.
pub fn offset(file: &SourceFile, pos: lsp::Position, enc: Encoding) -> usize {
    let (line, col) = (pos.line as usize, pos.character as usize);
    match enc {
        Encoding::Utf8 => file.lines.offset_of_utf8(&file.bytes, line, col),
        Encoding::Utf16 => file.lines.offset_of_utf16(&file.bytes, line, col),
    }
}

/// `file:///a%20b/c.ini` → `/a b/c.ini`. `None` for other schemes.
pub fn uri_to_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file://localhost/x` names the local host.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
    }
    #[cfg(not(unix))]
    {
        Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
    }
}

/// `/a b/c.ini` → `file:///a%20b/c.ini`.
pub fn path_to_uri(path: &Path) -> Option<lsp::Uri> {
    let mut s = String::from("file://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&s).ok()
}

/// The real path of a file, or its absolute normalised path when it is not
/// on disk (an unsaved buffer): how the library names files.
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        };
        crate::input::normalize_lexically(&abs)
    })
}

fn severity(s: Severity) -> lsp::DiagnosticSeverity {
    match s {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
    }
}

/// The rule's page as a URI: under the settings' `docs-url` when there is
/// one (as `check` links it), else on the project's site when the package
/// names one, else the page in the source tree this binary was built from,
/// when it is still there.
pub fn rule_href(code: &str, docs_url: Option<&str>) -> Option<lsp::Uri> {
    if docs_url.is_some() {
        return lsp::Uri::from_str(&crate::output::rule_url(code, docs_url)).ok();
    }
    // Looked up once per rule (a stat per diagnostic would cost on every edit).
    static CACHE: std::sync::Mutex<Vec<(String, Option<lsp::Uri>)>> =
        std::sync::Mutex::new(Vec::new());
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, href)) = cache.iter().find(|(c, _)| c == code) {
        return href.clone();
    }
    let href = rule_href_uncached(code);
    cache.push((code.to_string(), href.clone()));
    href
}

fn rule_href_uncached(code: &str) -> Option<lsp::Uri> {
    let url = crate::output::rule_url(code, None);
    if url.starts_with("https://") || url.starts_with("http://") {
        return lsp::Uri::from_str(&url).ok();
    }
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join(&url);
    page.is_file().then(|| path_to_uri(&page)).flatten()
}

/// Tags where the protocol has one: a suppression that suppresses nothing
/// and a key uWSGI ignores are dead text (editors grey them out).
fn tags(code: &str) -> Option<Vec<lsp::DiagnosticTag>> {
    match code {
        "UW008" | "UW101" => Some(vec![lsp::DiagnosticTag::UNNECESSARY]),
        _ => None,
    }
}

/// One library diagnostic as the protocol's.
pub fn diagnostic(
    sources: &SourceMap,
    d: &Diagnostic,
    enc: Encoding,
    docs_url: Option<&str>,
) -> lsp::Diagnostic {
    let file = sources.get(d.file);
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let f = sources.get(r.file);
            Some(lsp::DiagnosticRelatedInformation {
                location: lsp::Location::new(
                    path_to_uri(&crate::input::shown_path(f.path.as_deref()?))?,
                    range(f, r.span, enc),
                ),
                message: r.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(file, d.span, enc),
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        code_description: rule_href(d.code, docs_url).map(|href| lsp::CodeDescription { href }),
        source: Some("uwsgi-lint".into()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: tags(d.code),
        data: Some(serde_json::json!({
            "name": d.name,
            "help": d.help,
            "fix": d.fix.as_ref().map(|f| f.applicability),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/ü%.ini");
        let u = path_to_uri(p).unwrap();
        assert_eq!(u.as_str(), "file:///tmp/a%20b/%C3%BC%25.ini");
        assert_eq!(uri_to_path(&u).unwrap(), p);
        let other = lsp::Uri::from_str("untitled:Untitled-1").unwrap();
        assert!(uri_to_path(&other).is_none());
    }

    #[test]
    fn positions_in_both_encodings() {
        let f = SourceFile::new("x", None, "a = é😀z\nb\n".as_bytes().to_vec());
        let z = "a = é😀".len();
        assert_eq!(
            position(&f, z, Encoding::Utf8),
            lsp::Position::new(0, z as u32)
        );
        assert_eq!(position(&f, z, Encoding::Utf16), lsp::Position::new(0, 7));
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            assert_eq!(offset(&f, position(&f, z, enc), enc), z);
        }
        // Past the end of a line clamps to the line (UTF-8).
        assert_eq!(
            offset(&f, lsp::Position::new(1, 99), Encoding::Utf8),
            f.bytes.len() - 1
        );
    }
}
