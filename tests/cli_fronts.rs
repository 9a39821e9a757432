//! Fronts that are not Nginx, through the CLI: an ALB in Terraform and in
//! CloudFormation, ingress-nginx Ingresses, Traefik labels in Compose —
//! each linked to the container it routes to (shown by `check -v` and in
//! JSON), and UW402, UW404, UW408 against them; nothing when the values
//! agree.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures/fronts").join(name)
}

fn check(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(common::manifest_dir())
        .args(["check", "--no-config"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn json(name: &str) -> serde_json::Value {
    let dir = fixture(name);
    let (_, out) = check(&["--format", "json", dir.to_str().unwrap()]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The codes of the UW4xx findings, sorted.
fn proxy_codes(v: &serde_json::Value) -> Vec<String> {
    let mut c: Vec<String> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .filter(|c| c.starts_with("UW4"))
        .collect();
    c.sort();
    c
}

fn finding<'a>(v: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {v:#}"))
}

fn related_files(d: &serde_json::Value) -> Vec<(String, u64)> {
    d["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn alb_in_terraform_times_out_before_harakiri() {
    let v = json("ecs-terraform");
    assert_eq!(proxy_codes(&v), ["UW408"]);
    let d = finding(&v, "UW408");
    assert_eq!(
        d["file"],
        "tests/fixtures/fronts/ecs-terraform/deploy/uwsgi.ini"
    );
    assert_eq!(d["line"], 10);
    let m = d["message"].as_str().unwrap();
    assert!(
        m.contains("`harakiri = 90`") && m.contains("`idle_timeout = 60`"),
        "{m}"
    );
    assert!(m.contains("the ALB `aws_alb.public`"), "{m}");
    // The idle timeout, then the service's `load_balancer` block.
    let dir = "tests/fixtures/fronts/ecs-terraform/terraform";
    assert_eq!(
        related_files(d),
        [(format!("{dir}/alb.tf"), 4), (format!("{dir}/ecs.tf"), 17)]
    );
    assert_eq!(
        d["help"],
        "set `harakiri` below 60, e.g. `harakiri = 55`, or raise the front's timeout"
    );
    let front = &v["deployments"][0]["fronts"][0];
    assert_eq!(front["kind"], "alb");
    assert_eq!(front["timeout_seconds"], 60);
    assert_eq!(front["protocol"], "HTTP");
    // Reached through a listener rule, not the listener's default action.
    assert!(
        front["reason"]
            .as_str()
            .unwrap()
            .contains("target group `aws_alb_target_group.shop` of service `aws_ecs_service.shop`")
    );
}

#[test]
fn alb_in_cloudformation_times_out_before_harakiri() {
    let v = json("ecs-cloudformation");
    assert_eq!(proxy_codes(&v), ["UW408"]);
    let d = finding(&v, "UW408");
    let m = d["message"].as_str().unwrap();
    assert!(
        m.contains("`idle_timeout.timeout_seconds = 60` of the ALB `PublicLB`"),
        "{m}"
    );
    let stack = "tests/fixtures/fronts/ecs-cloudformation/cfn/stack.yaml".to_string();
    assert_eq!(related_files(d), [(stack.clone(), 20), (stack, 43)]);
}

#[test]
fn ingress_body_size_above_limit_post() {
    let v = json("ingress-body");
    assert_eq!(proxy_codes(&v), ["UW404"]);
    let d = finding(&v, "UW404");
    let m = d["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "the Ingress `shop` accepts request bodies up to 50 MiB (`proxy-body-size: 50m`)"
        ),
        "{m}"
    );
    assert!(m.contains("`limit-post` is 10485760 bytes"), "{m}");
    let ing = "tests/fixtures/fronts/ingress-body/k8s/ingress.yaml".to_string();
    assert_eq!(related_files(d), [(ing.clone(), 7), (ing, 18)]);
    let front = &v["deployments"][0]["fronts"][0];
    assert_eq!(front["kind"], "ingress-nginx");
    assert_eq!(front["body_limit_bytes"], 50u64 << 20);
}

#[test]
fn uwsgi_socket_behind_an_ingress_is_a_protocol_mismatch() {
    let v = json("ingress-socket");
    assert_eq!(proxy_codes(&v), ["UW402"]);
    let d = finding(&v, "UW402");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["line"], 9);
    let m = d["message"].as_str().unwrap();
    assert!(
        m.contains("speaks HTTP to `socket = :8000`, which expects the uwsgi protocol"),
        "{m}"
    );
    assert_eq!(
        d["help"],
        "bind it with `http-socket = :8000` (HTTP), keeping the port the front uses"
    );
}

#[test]
fn traefik_labels_in_compose() {
    let v = json("compose-traefik");
    assert_eq!(proxy_codes(&v), ["UW404", "UW408"]);
    let m = finding(&v, "UW408")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains(
            "`harakiri = 60` is above `responseheadertimeout=30s` of Traefik (labels of `app`)"
        ),
        "{m}"
    );
    let front = &v["deployments"][0]["fronts"][0];
    assert_eq!(front["kind"], "traefik");
    assert_eq!(front["timeout_seconds"], 30);
    assert_eq!(front["body_limit_bytes"], 52428800);
}

#[test]
fn no_finding_when_the_fronts_agree() {
    let v = json("agree");
    assert_eq!(proxy_codes(&v), Vec::<String>::new());
    // Both fronts are linked, so the silence is a comparison, not a miss.
    let kinds: Vec<&str> = v["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["fronts"].as_array().unwrap())
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["alb", "ingress-nginx"]);
}

#[test]
fn verbose_shows_each_front_and_why() {
    let dir = fixture("ecs-terraform");
    let (_, out) = check(&["-v", "--select", "UW408", dir.to_str().unwrap()]);
    assert!(out.contains(
        "  front (alb): the ALB `aws_alb.public` in tests/fixtures/fronts/ecs-terraform/terraform/alb.tf (it routes to container `app` port 8000: its listener forwards to target group `aws_alb_target_group.shop` of service `aws_ecs_service.shop`)\n    timeout: 60 s (`idle_timeout = 60`); body limit: none set; speaks HTTP to it\n    deregistration delay: 30 s (`deregistration_delay = 30`)\n"
    ), "{out}");
    let dir = fixture("ingress-socket");
    let (_, out) = check(&["-v", "--select", "UW402", dir.to_str().unwrap()]);
    assert!(out.contains(
        "  front (ingress-nginx): the Ingress `shop` in tests/fixtures/fronts/ingress-socket/k8s/ingress.yaml (it routes to Service `shop` port 80, which selects this pod (target port 8000))\n    timeout: 60 s (default); body limit: 1048576 bytes (default); speaks HTTP to it\n"
    ), "{out}");
}

#[test]
fn advise_sets_harakiri_below_the_front_timeout() {
    let advise = |name: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
            .current_dir(common::manifest_dir())
            .args(["advise", "--no-config", "--format", "json"])
            .arg(fixture(name))
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let r = v["deployments"][0]["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["option"] == "harakiri")
            .cloned()
            .expect("harakiri advised");
        (
            r["value"].as_str().unwrap().to_string(),
            r["reason"].as_str().unwrap().to_string(),
        )
    };
    let (value, reason) = advise("ecs-terraform");
    assert_eq!(value, "55");
    assert!(
        reason.starts_with("5 s below the 60 s timeout of the ALB `aws_alb.public`"),
        "{reason}"
    );
    let (value, reason) = advise("compose-traefik");
    assert_eq!(value, "25");
    assert!(reason.contains("30 s timeout of Traefik"), "{reason}");
}

#[test]
fn copilot_service_without_harakiri_behind_its_alb() {
    let v = json("copilot");
    assert_eq!(proxy_codes(&v), ["UW408"]);
    let d = finding(&v, "UW408");
    let m = d["message"].as_str().unwrap();
    assert!(m.starts_with("no `harakiri`: a request may run past the idle timeout (default 60 s) of the ALB of Copilot service `shop`"), "{m}");
    // The default is nowhere written: the label is the `http` section.
    assert_eq!(
        related_files(d),
        [(
            "tests/fixtures/fronts/copilot/copilot/shop/manifest.yml".to_string(),
            11
        )]
    );
    let front = &v["deployments"][0]["fronts"][0];
    assert_eq!(front["kind"], "alb");
    assert_eq!(front["timeout_seconds"], 60);
}

#[test]
fn a_changed_load_balancer_file_checks_the_config_behind_it() {
    // What the per-file pre-commit hook passes when only `alb.tf` changed.
    let alb = fixture("ecs-terraform/terraform/alb.tf");
    let (_, out) = check(&["--format", "json", alb.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(proxy_codes(&v), ["UW408"], "{v:#}");
}
