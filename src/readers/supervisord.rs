//! supervisord configurations: `supervisord*.conf`, `supervisor*.conf`,
//! files under `supervisor/`, `supervisor.d/`, `conf.d/` …, and any
//! `.conf`/`.ini` with a section only supervisord has (`[program:x]`,
//! `[supervisord]`). Before the Nginx reader, which also takes `.conf`.

use std::path::PathBuf;

use super::{Candidate, ReadContext, Reader};
use crate::container::supervisord;

pub struct SupervisordConfs;

impl Reader for SupervisordConfs {
    fn name(&self) -> &'static str {
        "supervisord"
    }

    fn claims(&self, file: &Candidate) -> bool {
        let lower = file.name.to_ascii_lowercase();
        let by_name = lower.starts_with("supervisor")
            || file.path.components().any(|c| {
                let c = c.as_os_str().to_string_lossy();
                c.starts_with("supervisor") || c == "conf.d"
            });
        if !(matches!(file.ext, "conf" | "ini") || (by_name && file.ext.is_empty())) {
            return false;
        }
        if file.unreadable() {
            // Said why it is not read, as supervisord's by its name.
            return lower.starts_with("supervisor");
        }
        file.text()
            .is_some_and(|t| supervisord::looks_like(&String::from_utf8_lossy(t)))
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        for f in files {
            let Some((_, text)) = cx.read(f) else {
                continue;
            };
            cx.project.supervisord.push(supervisord::parse(f, &text));
        }
    }
}
