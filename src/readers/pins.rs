//! The uWSGI version a project pins (`requirements*.txt`, `pyproject.toml`):
//! the version the rules target.

use std::path::PathBuf;

use super::{Candidate, ReadContext, Reader};
use crate::source::Span;

pub struct Pins;

impl Reader for Pins {
    fn name(&self) -> &'static str {
        "pins"
    }

    fn claims(&self, file: &Candidate) -> bool {
        (file.name.starts_with("requirements") && file.ext == "txt")
            || file.name == "pyproject.toml"
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        for f in files {
            let Some((_, text)) = cx.read(f) else {
                continue;
            };
            let pin = if f.ends_with("pyproject.toml") {
                crate::uwsgi::version::pin_in_pyproject(&text)
            } else {
                crate::uwsgi::version::pin_in_requirements(&text)
            };
            if let Some((v, r)) = pin {
                cx.project.pins.push((
                    v,
                    crate::container::Place {
                        file: f.clone(),
                        span: Span::new(r.start, r.end),
                        message: format!("pins uWSGI {v}"),
                    },
                ));
            }
        }
    }
}
