//! Dockerfiles (`Dockerfile`, `Dockerfile.prod`, `web.Dockerfile`,
//! `Containerfile`), by name.

use std::path::PathBuf;

use super::{Candidate, ReadContext, Reader};

pub struct Dockerfiles;

impl Reader for Dockerfiles {
    fn name(&self) -> &'static str {
        "dockerfile"
    }

    fn claims(&self, file: &Candidate) -> bool {
        let name = file.name;
        name == "Dockerfile"
            || name.starts_with("Dockerfile.")
            || name.ends_with(".Dockerfile")
            || name.ends_with(".dockerfile")
            || name == "Containerfile"
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        for f in files {
            let Some((_, text)) = cx.read(f) else {
                continue;
            };
            cx.project
                .dockerfiles
                .push(crate::container::dockerfile::parse(f, &text));
        }
    }
}
