//! `uwsgi-lint explain CODE|NAME` and `uwsgi-lint rules`.

use crate::rules::{self, RULES};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A rule code (`UW102`) or name (`unit-suffix-ignored`).
    pub rule: String,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
    Markdown,
}

pub fn explain(args: &ExplainArgs) -> Result<u8, String> {
    let rule = rules::find(&args.rule).ok_or_else(|| {
        format!(
            "`{}` is not a uwsgi-lint rule (see `uwsgi-lint rules`)",
            args.rule
        )
    })?;
    // Drop the front matter: it repeats what the heading says.
    let page = rule
        .page
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(rule.page, |(_, body)| body);
    let selection = if rule.default {
        "In the default rule set."
    } else {
        "Not in the default rule set: turn it on with `--extend-select` or `--select ALL`."
    };
    super::emit(&format!("{}\n\n{selection}\n", page.trim()));
    Ok(0)
}

pub fn list(args: &RulesArgs) -> Result<u8, String> {
    match args.format {
        RulesFormat::Text => {
            let mut s = String::new();
            for r in RULES {
                s.push_str(&format!(
                    "{}  {:<32} {:<8} {:<3} {}\n",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    if r.default { "on" } else { "off" },
                    r.summary
                ));
            }
            s.push_str("\n\"off\": not in the default rule set; turn on with `--select ALL` or `--extend-select CODE`.\n");
            super::emit(&s);
        }
        RulesFormat::Json => {
            let v: Vec<serde_json::Value> = RULES
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name,
                        "severity": r.severity.as_str(), "default": r.default,
                        "summary": r.summary,
                    })
                })
                .collect();
            super::emit(&(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"));
        }
        RulesFormat::Markdown => super::emit(&rules::index_markdown()),
    }
    Ok(0)
}
