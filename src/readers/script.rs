//! Shell scripts an image may start: `*.sh`, and `docker-entrypoint*`,
//! `entrypoint*`, `start*`, `run*` with a sh/bash first line. Read for the
//! command they end in; never run.

use std::path::PathBuf;

use super::{Candidate, ReadContext, Reader};
use crate::container::script;

pub struct Scripts;

impl Reader for Scripts {
    fn name(&self) -> &'static str {
        "script"
    }

    fn claims(&self, file: &Candidate) -> bool {
        let lower = file.name.to_ascii_lowercase();
        if matches!(file.ext, "sh" | "bash") {
            return true;
        }
        let named = ["docker-entrypoint", "entrypoint", "start", "run"]
            .iter()
            .any(|p| lower.starts_with(p));
        named
            && matches!(file.ext, "" | "bash" | "sh")
            && file.text().is_some_and(script::has_shell_shebang)
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        for f in files {
            let Some((_, text)) = cx.read(f) else {
                continue;
            };
            cx.project.scripts.push(script::parse(f, &text));
        }
    }
}
