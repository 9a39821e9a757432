//! CloudFormation templates (also SAM and `cdk synth` output), JSON or
//! YAML: the load balancers in front of ECS services (`aws_fronts`), and
//! each `AWS::ECS::TaskDefinition` resource, read as the ECS JSON
//! reader reads a task (`Memory`, `ContainerDefinitions[].Memory`,
//! `MemoryReservation`, `Command`, `EntryPoint`, `Environment`,
//! `PortMappings`, `StopTimeout`). An intrinsic function (`!Ref`, `!Sub`,
//! `!GetAtt`, `{"Fn::Join": …}`) is known only when the stack is deployed,
//! so it reads as unknown — except a `Ref` to a template parameter with a
//! literal `Default`, and a `!Sub` of a string with no `${}`.

use std::path::PathBuf;

use super::aws::{self, Keys, Tree, Unknowns, Val};
use super::aws_fronts;
use super::{Candidate, ReadContext, Reader};
use crate::container::ecs;
use crate::container::yaml::{self, Node, Value};

pub struct Templates;

const TASK: &str = "AWS::ECS::TaskDefinition";

impl Reader for Templates {
    fn name(&self) -> &'static str {
        "cloudformation"
    }

    fn claims(&self, file: &Candidate) -> bool {
        matches!(file.ext, "yml" | "yaml" | "json" | "template")
            && file.text().is_some_and(|t| {
                let t = String::from_utf8_lossy(t);
                (t.contains(TASK) || t.contains("AWS::ElasticLoadBalancing"))
                    && (t.contains("Resources") || t.contains("AWSTemplateFormatVersion"))
            })
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        let mut lb_resources: Vec<aws_fronts::Resource> = Vec::new();
        for f in files {
            let Some((id, text)) = cx.read(f) else {
                continue;
            };
            let docs = if text.trim_start().starts_with('{') {
                match aws::json(&text) {
                    Ok(t) => vec![t],
                    Err(e) => {
                        cx.problem(
                            "UW001",
                            id,
                            e.span,
                            format!("not valid JSON: {}", e.message),
                        );
                        continue;
                    }
                }
            } else {
                match yaml::parse_keeping_tags(&text) {
                    Ok(d) => d.iter().map(|n| from_yaml(n, 0)).collect(),
                    Err(e) => {
                        cx.problem(
                            "UW001",
                            id,
                            e.span,
                            format!("not valid YAML: {}", e.message),
                        );
                        continue;
                    }
                }
            };
            for doc in docs {
                let params = doc.get("Parameters").cloned();
                let Some(Val::Obj(resources)) = doc.get("Resources").map(|r| &r.val) else {
                    continue;
                };
                for (logical, res) in resources {
                    // Load balancers and what links them to containers.
                    if let Some(kind) = res
                        .get("Type")
                        .and_then(Tree::str)
                        .filter(|k| aws_fronts::CLOUDFORMATION_TYPES.contains(k))
                        && let Some(props) = res.get("Properties")
                    {
                        lb_resources.push(aws_fronts::Resource {
                            file: f.clone(),
                            scope: f.clone(),
                            kind: kind.to_string(),
                            id: logical.clone(),
                            tree: resolve(props, params.as_ref(), 0),
                            span: res.span,
                        });
                    }
                    if res.get("Type").and_then(Tree::str) != Some(TASK) {
                        continue;
                    }
                    let Some(props) = res.get("Properties") else {
                        continue;
                    };
                    let props = resolve(props, params.as_ref(), 0);
                    let mut unknowns: Unknowns = Vec::new();
                    let Some(defs) = props.get("ContainerDefinitions") else {
                        continue;
                    };
                    let task = aws::task(Some(&props), defs, Keys::Pascal, &mut unknowns);
                    super::report_task(cx, id, &task, unknowns);
                    let mut containers = ecs::containers(f, &task);
                    for c in &mut containers {
                        if c.group.is_none() {
                            c.group = Some(logical.clone());
                        }
                    }
                    cx.project.containers.extend(containers);
                }
            }
        }
        cx.project.fronts.extend(aws_fronts::fronts(&lb_resources));
    }
}

/// A YAML node as a tree; a local tag (`!Ref x`) is an intrinsic function.
fn from_yaml(n: &Node, depth: usize) -> Tree {
    let val = match &n.value {
        _ if depth > 64 => Val::Null,
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Int(i) => Val::Num(i.to_string()),
        Value::Float(f) => Val::Num(f.to_string()),
        Value::Str(s) => Val::Str(s.clone()),
        Value::Seq(items) => Val::Arr(items.iter().map(|i| from_yaml(i, depth + 1)).collect()),
        Value::Map(m) => Val::Obj(
            m.iter()
                .filter_map(|(k, v)| Some((k.scalar_text()?, from_yaml(v, depth + 1))))
                .collect(),
        ),
        // The long form of the same function: `{Fn::Sub: …}`.
        Value::Tagged(tag, inner) => {
            let name = tag.trim_start_matches('!');
            let name = if name == "Ref" {
                name.to_string()
            } else {
                format!("Fn::{name}")
            };
            Val::Obj(vec![(name, from_yaml(inner, depth + 1))])
        }
    };
    Tree::new(val, n.span)
}

/// Intrinsic functions replaced by what is known of them before deployment.
fn resolve(t: &Tree, params: Option<&Tree>, depth: usize) -> Tree {
    let unknown = |t: &Tree, shown: String| Tree::new(Val::Unknown(shown), t.span);
    match &t.val {
        Val::Obj(o) if o.len() == 1 && (o[0].0 == "Ref" || o[0].0.starts_with("Fn::")) => {
            let (f, arg) = (&o[0].0, &o[0].1);
            match (f.as_str(), &arg.val) {
                ("Ref", Val::Str(name)) => {
                    let default = params
                        .and_then(|p| p.get(name))
                        .and_then(|p| p.get("Default"))
                        .filter(|d| matches!(d.val, Val::Str(_) | Val::Num(_)));
                    match default {
                        Some(d) if depth < 8 => Tree::new(d.val.clone(), t.span),
                        _ => unknown(t, format!("Ref {name}")),
                    }
                }
                ("Fn::Sub", Val::Str(s)) if !s.contains("${") => {
                    Tree::new(Val::Str(s.clone()), t.span)
                }
                _ => unknown(t, describe(f, arg)),
            }
        }
        Val::Obj(o) => Tree::new(
            Val::Obj(
                o.iter()
                    .map(|(k, v)| (k.clone(), resolve(v, params, depth + 1)))
                    .collect(),
            ),
            t.span,
        ),
        Val::Arr(a) => Tree::new(
            Val::Arr(a.iter().map(|v| resolve(v, params, depth + 1)).collect()),
            t.span,
        ),
        _ => t.clone(),
    }
}

/// `!Sub "${AWS::Region}-x"`, `!GetAtt Db.Endpoint` … as shown in messages.
fn describe(f: &str, arg: &Tree) -> String {
    let short = f.trim_start_matches("Fn::");
    match &arg.val {
        Val::Str(s) | Val::Num(s) => format!("!{short} {s}"),
        _ => format!("!{short} …"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_functions_and_parameters_give_defaults() {
        let text = "Parameters:\n  Mem:\n    Type: Number\n    Default: 1024\nResources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      Memory: !Ref Mem\n      Family: !Sub \"${AWS::StackName}-web\"\n      ContainerDefinitions:\n        - Name: web\n          Image: !GetAtt Repo.RepositoryUri\n          StopTimeout: !Sub \"20\"\n";
        let doc = from_yaml(&yaml::parse_keeping_tags(text).unwrap()[0], 0);
        let props = doc.at_resource();
        let props = resolve(props, doc.get("Parameters"), 0);
        assert_eq!(props.get("Memory").unwrap().val, Val::Num("1024".into()));
        assert!(matches!(props.get("Family").unwrap().val, Val::Unknown(_)));
        let Val::Arr(defs) = &props.get("ContainerDefinitions").unwrap().val else {
            panic!()
        };
        assert!(matches!(defs[0].get("Image").unwrap().val, Val::Unknown(_)));
        assert_eq!(
            defs[0].get("StopTimeout").unwrap().val,
            Val::Str("20".into())
        );
    }

    trait At {
        fn at_resource(&self) -> &Tree;
    }
    impl At for Tree {
        fn at_resource(&self) -> &Tree {
            self.get("Resources")
                .unwrap()
                .get("Task")
                .unwrap()
                .get("Properties")
                .unwrap()
        }
    }
}
