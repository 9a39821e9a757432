//! The AWS infrastructure readers through the CLI, on multi-file projects
//! under `tests/fixtures/aws/`: Terraform (`jsonencode`, `templatefile`, a
//! heredoc), CloudFormation YAML with intrinsic tags, a Copilot manifest and
//! an ECS task JSON template. Each links its container to the config it
//! runs, with the evidence `check -v` shows, and the findings (UW202 from
//! the task's memory, UW303 with the task's `StopTimeout`, UW004 for what is
//! known only once deployed) are snapshotted.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The fixture copied into a throwaway project root (with `.git`).
fn project(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-aws-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join(".git")).unwrap();
    common::copy_dir(
        &common::manifest_dir().join("tests/fixtures/aws").join(name),
        &d,
    );
    d
}

fn json(dir: &Path) -> Value {
    let (_, out, err) = common::uwsgi_lint(dir, &["check", "--no-config", "--format", "json", "."]);
    serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"))
}

/// Deployments and findings as stable text for a snapshot.
fn summary(v: &Value) -> String {
    let mut s = String::from("deployments:\n");
    for d in v["deployments"].as_array().unwrap() {
        writeln!(
            s,
            "  {} <- {} ({}): {}\n    limit: {} | grace {} s | uWSGI {}",
            d["uwsgi"].as_str().unwrap(),
            d["container"].as_str().unwrap(),
            d["orchestrator"].as_str().unwrap(),
            d["reason"].as_str().unwrap(),
            d["memory_limit"].as_str().unwrap_or("none"),
            d["stop_grace_seconds"],
            d["uwsgi_version"].as_str().unwrap_or("?"),
        )
        .unwrap();
    }
    s.push_str("findings:\n");
    for f in v["diagnostics"].as_array().unwrap() {
        writeln!(
            s,
            "  {}:{}:{} {} {}",
            f["file"].as_str().unwrap(),
            f["line"],
            f["column"],
            f["code"].as_str().unwrap(),
            f["message"].as_str().unwrap()
        )
        .unwrap();
        for r in f["related"].as_array().into_iter().flatten() {
            writeln!(
                s,
                "    related {}:{} {}",
                r["file"].as_str().unwrap_or("?"),
                r["line"],
                r["message"].as_str().unwrap_or("")
            )
            .unwrap();
        }
    }
    s
}

/// Check a fixture: its one deployment is `container` running `config`,
/// `-v` says so with `reason`, and the findings match the snapshot.
fn case(name: &str, config: &str, container: &str, reason: &str) -> Value {
    let d = project(name);
    let v = json(&d);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{}", summary(&v));
    assert_eq!(deps[0]["uwsgi"], config);
    assert_eq!(deps[0]["container"], container);
    assert_eq!(deps[0]["orchestrator"], "ecs");
    let (_, text, _) = common::uwsgi_lint(&d, &["check", "--no-config", "-v", "."]);
    let evidence = format!("linked {config} ← {container} (ecs): {reason}");
    assert!(text.contains(&evidence), "no `{evidence}` in:\n{text}");
    insta::with_settings!({snapshot_path => common::manifest_dir().join("snapshots"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(format!("aws_{name}"), summary(&v));
    });
    let _ = std::fs::remove_dir_all(&d);
    v
}

fn find<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .collect()
}

#[test]
fn terraform_jsonencode_task_memory_less_the_sidecar() {
    let v = case(
        "tf-jsonencode",
        "deploy/uwsgi.ini",
        "infra/ecs.tf#web",
        "its command names `/srv/shop/deploy/uwsgi.ini`; its image taken to be the project's only Dockerfile",
    );
    let d = find(&v, "UW202");
    assert_eq!(d.len(), 1);
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("1 GiB task memory − 128 MiB held by `nginx` = 896 MiB")
    );
    // The task memory is `var.task_memory`: shown where it is used.
    let related = d[0]["related"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["file"] == "infra/ecs.tf" && r["line"] == 14),
        "{related:?}"
    );
    assert!(find(&v, "UW004").is_empty(), "the image tag is not needed");
}

#[test]
fn terraform_templatefile_reads_known_vars_and_leaves_placeholders_unknown() {
    let v = case(
        "tf-templatefile",
        "config/uwsgi.ini",
        "terraform/modules/app/main.tf#api",
        "its command names `/opt/api/config/uwsgi.ini`, copied from the build context",
    );
    let d = find(&v, "UW202");
    assert_eq!(d.len(), 1);
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("container `api` memory 640 MiB")
    );
    // `memory = 640` given in the call is where the limit is shown.
    let related = d[0]["related"].as_array().unwrap();
    assert_eq!(related[0]["file"], "terraform/modules/app/main.tf");
    assert_eq!(related[0]["line"], 12);
    let u = find(&v, "UW004");
    assert_eq!(u.len(), 1, "{}", summary(&v));
    assert_eq!(u[0]["file"], "terraform/modules/app/main.tf");
    assert!(
        u[0]["message"]
            .as_str()
            .unwrap()
            .contains("`--max-requests ${max_requests}`")
    );
    // UWSGI_HARAKIRI from the template's environment is applied.
    assert!(find(&v, "UW302").is_empty(), "{}", summary(&v));
}

#[test]
fn terraform_heredoc_json_with_a_variable_default() {
    let v = case(
        "tf-heredoc",
        "app/uwsgi.ini",
        "deploy/terraform/task.tf#billing",
        "its command names `/app/uwsgi.ini`, copied from the build context",
    );
    let d = find(&v, "UW202");
    assert_eq!(d.len(), 1);
    // 8 workers from UWSGI_PROCESSES; the container's 1536 MiB is below
    // the task's "2 GB"; the span is inside the heredoc.
    let m = d[0]["message"].as_str().unwrap();
    assert!(m.contains("8 workers") && m.contains("1536 MiB"), "{m}");
    let related = d[0]["related"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["file"] == "deploy/terraform/task.tf" && r["line"] == 15),
        "{related:?}"
    );
}

#[test]
fn cloudformation_yaml_with_intrinsic_tags() {
    let v = case(
        "cfn-yaml",
        "uwsgi/catalog.ini",
        "cloudformation/service.yaml#app",
        "its command names `/code/uwsgi/catalog.ini`, copied from the build context",
    );
    // `Memory: !Ref TaskMemory` takes the parameter's default.
    let d = find(&v, "UW202");
    assert_eq!(d.len(), 1);
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("1 GiB task memory − 64 MiB held by `proxy` = 960 MiB")
    );
    // The grace period is the task's StopTimeout.
    let s = find(&v, "UW303");
    assert_eq!(s.len(), 1);
    assert!(s[0]["message"].as_str().unwrap().contains("90 s grace"));
    // `!Ref CheaperWorkers` (no default) is unknown, not an error.
    let u = find(&v, "UW004");
    assert_eq!(u.len(), 1);
    assert!(u[0]["message"].as_str().unwrap().contains("UWSGI_CHEAPER"));
    assert!(find(&v, "UW001").is_empty());
}

#[test]
fn copilot_manifest_builds_its_dockerfile() {
    let v = case(
        "copilot-svc",
        "deploy/uwsgi.ini",
        "copilot/web/manifest.yml#web",
        "its command names `deploy/uwsgi.ini`",
    );
    let dep = &v["deployments"][0];
    assert_eq!(dep["uwsgi_version"], "2.0.28");
    let d = find(&v, "UW202");
    assert_eq!(d.len(), 1);
    assert!(d[0]["message"].as_str().unwrap().contains("6 workers"));
    let (_, text, _) = common::uwsgi_lint(
        &project("copilot-svc"),
        &["check", "--no-config", "-v", "."],
    );
    assert!(
        text.contains("image built from: docker/web.Dockerfile"),
        "{text}"
    );
}

#[test]
fn ecs_task_json_template_outside_terraform() {
    let v = case(
        "ecs-template",
        "conf/reports.ini",
        "ecs/task-definition.json#reports",
        "its command names `/app/conf/reports.ini`, copied from the build context",
    );
    let u = find(&v, "UW004");
    assert_eq!(u.len(), 2, "{}", summary(&v));
    assert!(find(&v, "UW001").is_empty());
    let d = find(&v, "UW202");
    assert!(
        d[0]["message"]
            .as_str()
            .unwrap()
            .contains("container `reports` memory 512 MiB")
    );
}

/// What an orchestrator file cannot be read as is said, never a panic:
/// broken HCL of a task, a template directive, a CloudFormation value of
/// the wrong type.
#[test]
fn malformed_inputs_are_reported_with_positions() {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-aws-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    for (path, text) in [
        (".git/HEAD", ""),
        ("uwsgi.ini", "[uwsgi]\nmaster = true\nprocesses = 2\n"),
        (
            "broken.tf",
            "resource \"aws_ecs_task_definition\" \"x\" {\n  memory = \n}\n",
        ),
        ("unrelated.tf", "this is { not hcl\n"),
        (
            "tpl.tf",
            "resource \"aws_ecs_task_definition\" \"t\" {\n  container_definitions = templatefile(\"defs.json.tpl\", {})\n}\n",
        ),
        (
            "defs.json.tpl",
            "[%{ for c in cs }{\"name\": \"${c}\"}%{ endfor }]\n",
        ),
        (
            "missing.tf",
            "resource \"aws_ecs_task_definition\" \"m\" {\n  container_definitions = file(\"${path.module}/gone.json\")\n}\n",
        ),
        (
            "heredoc.tf",
            "resource \"aws_ecs_task_definition\" \"h\" {\n  container_definitions = <<EOF\n[%{ if x }{}%{ endif }]\nEOF\n}\n",
        ),
        (
            "stack.yml",
            "Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      Memory: lots\n      ContainerDefinitions:\n        - Name: app\n          Memory: !Ref Mem\n          Command: [uwsgi, --ini, uwsgi.ini]\n",
        ),
    ] {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let v = json(&d);
    let at = |code: &str, file: &str| {
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == code && x["file"] == file)
            .unwrap_or_else(|| panic!("no {code} in {file}: {}", summary(&v)))
            .clone()
    };
    assert_eq!(at("UW001", "broken.tf")["line"], 2);
    assert!(
        !v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["file"] == "unrelated.tf"),
        "a .tf without tasks is none of this tool's business"
    );
    assert!(
        at("UW004", "defs.json.tpl")["message"]
            .as_str()
            .unwrap()
            .contains("template directives")
    );
    let m = at("UW002", "missing.tf");
    assert!(m["message"].as_str().unwrap().contains("gone.json"), "{m}");
    let h = at("UW004", "heredoc.tf");
    assert_eq!(
        (h["line"].as_u64(), h["column"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(at("UW001", "stack.yml")["line"], 5);
    assert!(
        at("UW004", "stack.yml")["message"]
            .as_str()
            .unwrap()
            .contains("Ref Mem")
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The template provider of older Terraform: `data "template_file"` whose
/// `rendered` output is the container definitions.
#[test]
fn terraform_template_provider_rendered() {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-aws-tplp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    for (path, text) in [
        (".git/HEAD", ""),
        (
            "uwsgi.ini",
            "[uwsgi]\nmodule = app.wsgi\nmaster = true\nneed-app = true\nsocket = :3031\nprocesses = 4\nreload-on-rss = 200\nharakiri = 30\nhook-master-start = unix_signal:15 gracefully_kill_them_all\n",
        ),
        (
            "terraform/ecs.tf",
            "data \"template_file\" \"app\" {\n  template = \"${file(\"${path.module}/app.json\")}\"\n  vars = {\n    mem = 512\n    image = \"${var.repo}:latest\"\n  }\n}\n\nresource \"aws_ecs_task_definition\" \"app\" {\n  family                = \"app\"\n  container_definitions = data.template_file.app.rendered\n}\n",
        ),
        (
            "terraform/app.json",
            "[{\"name\": \"app\", \"image\": \"${image}\", \"memory\": ${mem},\n  \"command\": [\"uwsgi\", \"--ini\", \"/srv/uwsgi.ini\"]}]\n",
        ),
    ] {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let v = json(&d);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{}", summary(&v));
    assert_eq!(deps[0]["container"], "terraform/ecs.tf#app");
    assert_eq!(deps[0]["memory_limit_bytes"], 512 * 1024 * 1024);
    let d202 = find(&v, "UW202");
    assert_eq!(d202.len(), 1, "{}", summary(&v));
    // The limit is shown at `mem = 512` in the data source.
    assert_eq!(d202[0]["related"][0]["file"], "terraform/ecs.tf");
    assert_eq!(d202[0]["related"][0]["line"], 4);
    let _ = std::fs::remove_dir_all(&d);
}

/// A variable's default is its value only when nothing else sets it: a
/// local module's caller, `terraform.tfvars`, or (unknown) a per-run
/// `*.tfvars`.
#[test]
fn terraform_variables_set_elsewhere_override_or_hide_the_default() {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-aws-vars-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let task = |dir: &str, var: &str| {
        (
            format!("{dir}/task.tf"),
            format!(
                "variable \"{var}\" {{\n  default = 256\n}}\n\nresource \"aws_ecs_task_definition\" \"{var}\" {{\n  family = \"{var}\"\n  memory = var.{var}\n  container_definitions = jsonencode([{{ name = \"{var}\", command = [\"uwsgi\", \"--ini\", \"/srv/{var}.ini\"] }}])\n}}\n"
            ),
        )
    };
    let ini = "[uwsgi]\nmodule = app.wsgi\nmaster = true\nneed-app = true\nsocket = :3031\nprocesses = 2\nreload-on-rss = 200\nharakiri = 30\nhook-master-start = unix_signal:15 gracefully_kill_them_all\n";
    let mut files: Vec<(String, String)> = vec![
        (".git/HEAD".into(), String::new()),
        ("a.ini".into(), ini.into()),
        ("b.ini".into(), ini.into()),
        ("c.ini".into(), ini.into()),
        // A module whose caller passes 2048.
        task("modules/a", "a"),
        (
            "main.tf".into(),
            "module \"a\" {\n  source = \"./modules/a\"\n  a      = 2048\n}\n".into(),
        ),
        // terraform.tfvars sets 1024.
        task("b", "b"),
        ("b/terraform.tfvars".into(), "b = 1024\n".into()),
        // Chosen per run with -var-file: unknown.
        task("c", "c"),
        ("c/prod.tfvars".into(), "c = 4096\n".into()),
    ];
    for (path, text) in files.drain(..) {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let v = json(&d);
    let limit = |ini: &str| {
        v["deployments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["uwsgi"] == ini)
            .map(|x| x["memory_limit_bytes"].clone())
            .unwrap_or_else(|| panic!("{ini} not linked: {}", summary(&v)))
    };
    assert_eq!(limit("a.ini"), 2048u64 << 20);
    assert_eq!(limit("b.ini"), 1024u64 << 20);
    assert_eq!(limit("c.ini"), Value::Null);
    let u = find(&v, "UW004");
    assert!(
        u.iter()
            .any(|x| x["file"] == "c/task.tf" && x["message"].as_str().unwrap().contains("var.c")),
        "{}",
        summary(&v)
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A Copilot environment that lowers `memory` sets the limit that can be
/// exceeded (as staging does in real manifests).
#[test]
fn copilot_environment_with_less_memory() {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-aws-cpenv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    for (path, text) in [
        (".git/HEAD", ""),
        (
            "uwsgi.ini",
            "[uwsgi]\nmodule = app.wsgi\nmaster = true\nneed-app = true\nhttp-socket = :80\nprocesses = 4\nreload-on-rss = 300\nharakiri = 30\nhook-master-start = unix_signal:15 gracefully_kill_them_all\n",
        ),
        (
            "copilot/api/manifest.yml",
            "name: api\ntype: Backend Service\nimage:\n  location: example.org/api:1\n  port: 80\ncommand: [\"uwsgi\", \"--ini\", \"/code/uwsgi.ini\"]\nmemory: 4096\nenvironments:\n  staging:\n    memory: 1024\n",
        ),
    ] {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let v = json(&d);
    assert_eq!(
        v["deployments"][0]["memory_limit_bytes"],
        1024u64 << 20,
        "{}",
        summary(&v)
    );
    let d202 = find(&v, "UW202");
    assert_eq!(d202.len(), 1, "{}", summary(&v));
    assert_eq!(d202[0]["related"][0]["line"], 10);
    // The message names the environment whose limit it is.
    let m = d202[0]["message"].as_str().unwrap();
    assert!(
        m.contains("(of the environment `staging`, the smallest of the manifest)"),
        "{m}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// `cdk synth` output: CloudFormation JSON, intrinsic functions as
/// `{"Ref": …}`/`{"Fn::Join": …}` objects.
#[test]
fn cdk_synth_json_output() {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-aws-cdk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let template = r#"{
  "Resources": {
    "WebTaskDef1A2B3C4D": {
      "Type": "AWS::ECS::TaskDefinition",
      "Properties": {
        "Cpu": "256",
        "Memory": "512",
        "Family": "ShopStackWebTaskDef",
        "ContainerDefinitions": [
          {
            "Name": "web",
            "Image": {"Fn::Join": ["", [{"Ref": "AWS::AccountId"}, ".dkr.ecr.eu-west-1.amazonaws.com/shop:latest"]]},
            "Command": ["uwsgi", "--ini", "/app/uwsgi.ini"],
            "Environment": [{"Name": "UWSGI_PROCESSES", "Value": "4"}],
            "PortMappings": [{"ContainerPort": 8000, "Protocol": "tcp"}]
          }
        ]
      }
    }
  }
}
"#;
    for (path, text) in [
        (".git/HEAD", ""),
        (
            "uwsgi.ini",
            "[uwsgi]\nmodule = shop.wsgi\nmaster = true\nneed-app = true\nhttp-socket = :8000\nreload-on-rss = 160\nharakiri = 30\nhook-master-start = unix_signal:15 gracefully_kill_them_all\n",
        ),
        ("cdk.out/ShopStack.template.json", template),
    ] {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let v = json(&d);
    let dep = &v["deployments"][0];
    assert_eq!(
        dep["container"],
        "cdk.out/ShopStack.template.json#web",
        "{}",
        summary(&v)
    );
    assert_eq!(dep["memory_limit_bytes"], 512u64 << 20);
    let d202 = find(&v, "UW202");
    assert_eq!(d202.len(), 1, "{}", summary(&v));
    assert!(d202[0]["message"].as_str().unwrap().contains("4 workers"));
    assert!(find(&v, "UW004").is_empty() && find(&v, "UW001").is_empty());
    let _ = std::fs::remove_dir_all(&d);
}
