//! AWS ECS task definitions as JSON (`aws ecs register-task-definition`
//! input, `describe-task-definition` output).

use std::path::PathBuf;

use super::{Candidate, ReadContext, Reader};
use crate::container::ecs;

pub struct EcsTasks;

impl Reader for EcsTasks {
    fn name(&self) -> &'static str {
        "ecs"
    }

    fn claims(&self, file: &Candidate) -> bool {
        (file.ext == "json" || super::aws::is_json_template_name(file.name))
            && ecs::looks_like_task_definition(&file.str())
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        for f in files {
            let Some((id, text)) = cx.read(f) else {
                continue;
            };
            // A template (`${…}` placeholders, envsubst or Terraform).
            if text.contains("${") {
                super::aws::read_task_template(cx, f, id, &text);
                continue;
            }
            match ecs::parse(&text) {
                Ok(Some(task)) => {
                    super::report_task(cx, id, &task, Vec::new());
                    cx.project.containers.extend(ecs::containers(f, &task));
                }
                Ok(None) => {}
                Err(e) => cx.problem(
                    "UW001",
                    id,
                    e.span,
                    format!("not valid JSON: {}", e.message),
                ),
            }
        }
    }
}
