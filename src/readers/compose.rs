//! Docker Compose files: services with their limits, commands, ports and
//! mounts.

use std::path::PathBuf;

use super::{Candidate, ReadContext, Reader, is_yaml, yaml_documents};
use crate::container::compose;

pub struct ComposeFiles;

impl Reader for ComposeFiles {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn claims(&self, file: &Candidate) -> bool {
        if !is_yaml(file) {
            return false;
        }
        if file.unreadable() {
            // Said why it is not read, as a Compose file by its name.
            return file.name.contains("compose");
        }
        // `services:` is a top-level key: at the start of a line.
        file.str().lines().any(|l| l.trim_end() == "services:")
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        for f in files {
            let Some((id, text)) = cx.read(f) else {
                continue;
            };
            let Some(docs) = yaml_documents(cx, id, &text) else {
                continue;
            };
            if docs.first().is_some_and(compose::is_compose) {
                let (cs, problems) = compose::containers(f, &docs[0]);
                cx.project.containers.extend(cs);
                for p in problems {
                    cx.problem("UW001", id, p.span, p.value);
                }
            }
        }
    }
}
