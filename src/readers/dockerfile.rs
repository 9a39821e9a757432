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
        let parsed = cx.read_parsed(files, crate::container::dockerfile::parse);
        cx.project
            .dockerfiles
            .extend(parsed.into_iter().map(|p| p.value));
    }
}
