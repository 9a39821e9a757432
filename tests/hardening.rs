//! An untrusted change (or a careless flag) cannot crash, hang or exhaust the
//! tool, nor make it read, list or write outside the project: one
//! reproduction per class (docs/security.md lists them).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A fresh project directory (with `.git`, so it is the project root).
fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    for (name, content) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    d
}

/// Run the tool in `dir`, bounded: a hang fails the test instead of the run.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    run_with_stdin(dir, args, None)
}

fn run_with_stdin(
    dir: &Path,
    args: &[&str],
    stdin: Option<PathBuf>,
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"));
    cmd.current_dir(dir).args(args);
    let out = match stdin {
        Some(p) => {
            // run_bounded gives a null stdin; a shell redirects it instead.
            let mut sh = Command::new("sh");
            let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
            sh.current_dir(dir).arg("-c").arg(format!(
                "exec '{}' {} < '{}'",
                env!("CARGO_BIN_EXE_uwsgi-lint"),
                quoted.join(" "),
                p.display()
            ));
            common::run_bounded(sh, Duration::from_secs(120))
        }
        None => common::run_bounded(cmd, Duration::from_secs(120)),
    };
    assert!(!out.timed_out, "uwsgi-lint {args:?} hung");
    (
        out.code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const INI: &[u8] =
    b"[uwsgi]\nmaster = true\nmodule = app.wsgi\nhttp-socket = :8000\nprocesses = 2\n";

#[test]
fn user_numbers_are_validated() {
    let p = project(&[("uwsgi.ini", INI)]);
    for (flag, value) in [
        ("--cpus", "NaN"),
        ("--cpus", "inf"),
        ("--cpus", "0"),
        ("--cpus", "-3"),
        ("--memory-limit", "0"),
        ("--memory-limit", "1e300"),
        ("--interval", "inf"),
        ("--interval", "1e300"),
        ("--interval", "-1"),
    ] {
        let (code, out, err) = run(p.path(), &["advise", &format!("{flag}={value}")]);
        assert_eq!(code, Some(2), "{flag} {value}: {out}{err}");
        assert!(err.contains(value), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, _, err) = run(p.path(), &["check", "--memory-limit=0"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, out, err) = run(p.path(), &["advise", "--cpus=1.5", "--memory-limit=1GiB"]);
    assert_eq!(code, Some(0), "{out}{err}");
}

/// Run under a virtual-memory cap (an OOM abort becomes a test failure
/// instead of a stuck machine).
fn run_capped(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let mut sh = Command::new("sh");
    sh.current_dir(dir).arg("-c").arg(format!(
        "ulimit -v 2000000; exec '{}' {}",
        env!("CARGO_BIN_EXE_uwsgi-lint"),
        quoted.join(" ")
    ));
    let out = common::run_bounded(sh, Duration::from_secs(300));
    assert!(!out.timed_out, "uwsgi-lint {args:?} hung");
    (
        out.code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn expansion_fanned_out_by_for_times_is_a_budget_not_an_abort() {
    // 10 × 10 × 10 × 10 × 100 bytes per value, 100,000 times: > 8 GB asked.
    let mut ini = format!("[uwsgi]\nmaster = true\na = {}\n", "x".repeat(100));
    for (name, of) in [("b", "a"), ("c", "b"), ("d", "c")] {
        ini.push_str(&format!("{name} = {}\n", format!("%({of})").repeat(10)));
    }
    ini.push_str("for-times = 100000\ne = %(d)%(d)%(d)%(d)%(d)%(d)%(d)%(d)%(d)%(d)\nendfor =\n");
    assert!(ini.len() < 1000);
    let p = project(&[("uwsgi.ini", ini.as_bytes())]);
    let (code, out, err) = run_capped(
        p.path(),
        &["check", "--no-config", "--format", "concise", "uwsgi.ini"],
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("error[UW001]") && out.contains("expansions build more than 16 MiB"),
        "{out}"
    );
}

#[test]
fn includes_read_in_a_loop_are_a_budget() {
    // An include read once per round of `for-times` (found by fuzzing: the
    // file reads alone took over a second).
    let ini = "[uwsgi]\nmaster = true\nfor-times = 100000\ninclude = inc.ini\nendfor =\n";
    let p = project(&[
        ("uwsgi.ini", ini.as_bytes()),
        ("inc.ini", b"[uwsgi]\nbuffer-size = 8192\n"),
    ]);
    let (code, out, err) = run_capped(
        p.path(),
        &["check", "--no-config", "--format", "concise", "uwsgi.ini"],
    );
    assert_eq!(code, Some(1), "{out}{err}");
    let said: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("more than 500 config files read for one config"))
        .collect();
    assert_eq!(said.len(), 1, "said once, as UW001:\n{out}");
    assert!(said[0].contains("error[UW001]"), "{out}");
}

#[test]
fn a_yaml_alias_bomb_is_a_budget_not_an_abort() {
    let mut compose = format!(
        "x-big: &big \"{}\"\nservices:\n  web:\n    image: app\n    command: uwsgi --ini uwsgi.ini\n    labels:\n",
        "x".repeat(1 << 20)
    );
    for i in 0..2000 {
        compose.push_str(&format!("      l{i}: *big\n"));
    }
    let p = project(&[
        ("uwsgi.ini", INI),
        ("docker-compose.yml", compose.as_bytes()),
    ]);
    let (code, out, err) = run_capped(p.path(), &["check", "--no-config", "--format", "concise"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("docker-compose.yml:1:1: error[UW001] not valid YAML: its aliases expand it to more than 64 MiB"),
        "{out}"
    );
}

#[cfg(unix)]
fn fifo(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let status = Command::new("mkfifo").arg(&p).status().unwrap();
    assert!(status.success());
    p
}

#[cfg(unix)]
#[test]
fn a_fifo_named_anywhere_never_blocks() {
    for (what, ini) in [
        ("ini", "[uwsgi]\nmaster = true\nini = pipe.ini\n"),
        ("include", "[uwsgi]\nmaster = true\ninclude = pipe.ini\n"),
        ("@()", "[uwsgi]\nmaster = true\nchdir = @(pipe.ini)\n"),
        (
            "for-readline",
            "[uwsgi]\nmaster = true\nfor-readline = pipe.ini\nenv = %(_)\nendfor =\n",
        ),
    ] {
        let p = project(&[("uwsgi.ini", ini.as_bytes())]);
        fifo(p.path(), "pipe.ini");
        let (code, out, err) = run(
            p.path(),
            &["check", "--no-config", "--format", "concise", "uwsgi.ini"],
        );
        // `ini`/`include` make the config incomplete (an error); an `@()`
        // value is only unknown here (info). Either way it ends and says why.
        assert!(matches!(code, Some(0 | 1)), "{what}: {out}{err}");
        assert!(out.contains("not a regular file"), "{what}: {out}");
    }
    // Nginx including a FIFO.
    let p = project(&[
        ("uwsgi.ini", INI),
        (
            "nginx/nginx.conf",
            b"events {}\nhttp {\n  include pipe.conf;\n}\n",
        ),
    ]);
    fifo(&p.path().join("nginx"), "pipe.conf");
    let (code, out, err) = run(p.path(), &["check", "--no-config", "--format", "concise"]);
    assert!(code.is_some(), "{out}{err}");
    // The config itself a FIFO, and `--log` one.
    let p = project(&[("uwsgi.ini", INI)]);
    fifo(p.path(), "pipe.ini");
    let (code, out, err) = run(
        p.path(),
        &["check", "--no-config", "--format", "concise", "pipe.ini"],
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("error[UW001]") && out.contains("not a regular file"),
        "{out}"
    );
    fifo(p.path(), "uwsgi.log");
    let (code, _, err) = run(p.path(), &["advise", "--no-config", "--log", "uwsgi.log"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn unbounded_reads_are_capped() {
    let p = project(&[("uwsgi.ini", INI)]);
    for flag in ["--log", "--stats-file"] {
        let (code, _, err) = run(p.path(), &["advise", "--no-config", flag, "/dev/zero"]);
        assert_eq!(code, Some(2), "{flag}: {err}");
        assert!(err.contains("not a regular file"), "{flag}: {err}");
    }
    // A gzip bomb: 300 MiB of zeros, compressed to a few hundred KiB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        std::io::Write::write_all(&mut gz, &zeros).unwrap();
    }
    std::fs::write(p.path().join("uwsgi.log.gz"), gz.finish().unwrap()).unwrap();
    let (code, _, err) = run_capped(
        p.path(),
        &["advise", "--no-config", "--log", "uwsgi.log.gz"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("un-gzips to more than 256 MiB"), "{err}");
    // Standard input that never ends.
    let (code, _, err) = run_with_stdin(
        p.path(),
        &["check", "--no-config", "--stdin-filename", "x.ini", "-"],
        Some(PathBuf::from("/dev/zero")),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("standard input is larger than 16 MiB"),
        "{err}"
    );
}

#[test]
fn no_silent_pass() {
    // Over the size cap.
    let mut big = b"[uwsgi]\nmaster = true\n".to_vec();
    big.resize(17 << 20, b'\n');
    let p = project(&[("uwsgi.ini", &big)]);
    let (code, out, err) = run(
        p.path(),
        &["check", "--no-config", "--format", "concise", "uwsgi.ini"],
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("error[UW001]") && out.contains("larger than 16 MiB"),
        "{out}"
    );
    // A byte-order mark, and old Mac line ends: uWSGI finds no section.
    for (name, text) in [
        ("bom.ini", &b"\xef\xbb\xbf[uwsgi]\nmaster = true\n"[..]),
        ("cr.ini", &b"[uwsgi]\rmaster = true\r"[..]),
    ] {
        let p = project(&[(name, text)]);
        let (code, out, err) = run(
            p.path(),
            &["check", "--no-config", "--format", "concise", name],
        );
        assert_eq!(code, Some(1), "{name}: {out}{err}");
        assert!(out.contains("error[UW009]"), "{name}: {out}");
        if let Some(uwsgi) = common::uwsgi_oracle("no_silent_pass") {
            let mut cmd = Command::new(uwsgi);
            cmd.current_dir(p.path()).args([
                "--show-config",
                "--hook-pre-jail",
                "exit:",
                "--ini",
                name,
            ]);
            let o = common::run_bounded(cmd, Duration::from_secs(60));
            let said = String::from_utf8_lossy(&o.stderr).into_owned()
                + &String::from_utf8_lossy(&o.stdout);
            assert!(
                said.contains("Can't find section \"uwsgi\""),
                "{name}: {said}"
            );
        }
    }
}

#[test]
fn stdin_filename_outside_the_project_is_refused() {
    let p = project(&[("app/uwsgi.ini", INI)]);
    let stdin = p.path().join("app/uwsgi.ini");
    for name in ["../x.ini", "/x.ini"] {
        let (code, out, err) = run_with_stdin(
            p.path(),
            &["check", "--no-config", "--stdin-filename", name, "-"],
            Some(stdin.clone()),
        );
        assert_eq!(code, Some(2), "{name}: {out}{err}");
        assert!(err.contains("outside the project"), "{name}: {err}");
    }
    let (code, out, err) = run_with_stdin(
        p.path(),
        &["check", "--no-config", "--stdin-filename", "app/x.ini", "-"],
        Some(stdin),
    );
    assert!(code == Some(0) || code == Some(1), "{out}{err}");
}

#[cfg(unix)]
#[test]
fn a_settings_file_linked_outside_the_project_is_not_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.toml");
    std::fs::write(&secret, "secret-token = \"hunter2\"\n").unwrap();
    let p = project(&[("uwsgi.ini", INI)]);
    std::os::unix::fs::symlink(&secret, p.path().join("uwsgi-lint.toml")).unwrap();
    let (code, out, err) = run(p.path(), &["check", "uwsgi.ini"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("outside the project"), "{err}");
    assert!(!(out + &err).contains("hunter2"));
}

#[test]
fn a_label_past_column_65535_renders() {
    let mut ini = b"[uwsgi]\nmaster = true\nhome = /x".to_vec();
    ini.extend(std::iter::repeat_n(b'a', 70_000));
    ini.extend(b" ; comment\n");
    let p = project(&[("uwsgi.ini", &ini)]);
    let (code, out, err) = run(p.path(), &["check", "--no-config", "uwsgi.ini"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("--> uwsgi.ini:3:70011\n"), "{out}{err}");
    // The source line is shown as an excerpt, not whole.
    let shown = out
        .lines()
        .find(|l| l.starts_with("3 | "))
        .expect("the line");
    assert!(
        shown.starts_with("3 | …aaaa") && shown.len() < 200,
        "{shown}"
    );
}

/// The findings, without the line that names the file linted.
fn findings(dir: &Path, file: &str) -> String {
    let (code, out, err) = run(dir, &["check", "--no-config", "--format", "concise", file]);
    assert!(code == Some(0) || code == Some(1), "{out}{err}");
    out
}

#[test]
fn nothing_outside_the_project_is_listed_or_tested() {
    // for-glob over /etc lists nothing of it.
    let p = project(&[(
        "uwsgi.ini",
        b"[uwsgi]\nmaster = true\nfor-glob = /etc/*\nattach-daemon = %(_)\nendfor =\nfor-glob = /**/*\nenv = %(_)\nendfor =\n",
    )]);
    let out = findings(p.path(), "uwsgi.ini");
    assert!(
        !out.contains("/etc/passwd") && !out.contains("/etc/hostname"),
        "{out}"
    );
    assert!(out.contains("lists files outside the project"), "{out}");
    // An Nginx include of /etc lists nothing either.
    let p = project(&[
        ("uwsgi.ini", INI),
        ("nginx/nginx.conf", b"events {}\nhttp {\n  include /etc/*;\n  include /**/*.conf;\n  include ../../../../etc/passwd;\n}\n"),
    ]);
    let (_, out, err) = run(
        p.path(),
        &["check", "--no-config", "--format", "json", "-v"],
    );
    assert!(
        !out.contains("/etc/passwd") || !out.contains("root:"),
        "{out}{err}"
    );
    assert!(
        !out.contains("/etc/nginx") && !out.contains("/etc/hostname"),
        "{out}"
    );
    // Whether a path exists outside does not change the findings.
    let with = |path: &str| {
        let ini = format!(
            "[uwsgi]\nmaster = true\nif-exists = {path}\nharakiri = 30\nendif =\nif-not-file = {path}\nworkers = 4\nendif =\n"
        );
        let p = project(&[("uwsgi.ini", ini.as_bytes())]);
        findings(p.path(), "uwsgi.ini").replace(path, "PATH")
    };
    let present = with("/etc/passwd");
    assert_eq!(present, with("/no/such/file-here"));
    assert!(present.contains("outside the project"), "{present}");
}

/// A link to a directory outside the project stays outside however it is
/// spelt and whatever was asked of it before: `ext/` (which `Path` takes
/// for `ext`, realpath does not) once answered later questions about
/// `ext/base.ini` from the wrong place, and the file outside was read.
#[test]
fn a_link_out_of_the_project_stays_outside_however_spelt() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("base.ini"),
        "[uwsgi]\nprocesses = 64\nSECRET-OUTSIDE = 1\n",
    )
    .unwrap();
    for first in ["ext/", "ext/.", "ext", "app/../ext/"] {
        let ini = format!(
            "[uwsgi]\nmodule = app:app\nif-dir = {first}\nharakiri = 30\nendif =\nini = ext/base.ini\n"
        );
        let p = project(&[("uwsgi.ini", ini.as_bytes())]);
        std::fs::create_dir(p.path().join("app")).unwrap();
        std::os::unix::fs::symlink(outside.path(), p.path().join("ext")).unwrap();
        let (_, out, err) = run(
            p.path(),
            &[
                "check",
                "--no-config",
                "--select",
                "ALL",
                "--format",
                "concise",
                "uwsgi.ini",
            ],
        );
        assert!(!out.contains("SECRET-OUTSIDE"), "{first}: {out}{err}");
        assert!(
            out.contains("`ext/base.ini` is outside the project"),
            "{first}: {out}{err}"
        );
        // The test is named by its directive, not by the option it guards.
        assert!(
            out.contains(&format!("`if-dir = {first}` tests a path outside")),
            "{first}: {out}{err}"
        );
        assert!(
            !out.contains("base.ini:"),
            "{first}: a finding in the file outside: {out}"
        );
    }
}

#[test]
fn this_machines_identity_stays_out_of_reports() {
    let p = project(&[(
        "uwsgi.ini",
        b"[uwsgi]\nmaster = true\nprocname-prefix = %h-%U-%u-\nworkers = 4%h\n",
    )]);
    let (_, out, err) = run(
        p.path(),
        &["check", "--no-config", "--format", "json", "uwsgi.ini"],
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    if host.len() > 3 {
        assert!(!out.contains(host), "{out}{err}");
    }
    // Host-dependent values are unknown in `check`: nothing is computed
    // from them, and the run still reports the file.
    assert!(out.contains("\"files\": 1"), "{out}");
    let user = std::env::var("USER").unwrap_or_default();
    if user.len() > 3 {
        assert!(!out.contains(&user), "{out}");
    }
}

#[test]
fn a_truncated_ecs_task_definition_is_reported() {
    let p = project(&[
        ("uwsgi.ini", INI),
        (
            "ecs/task.json",
            b"{\"family\": \"web\", \"memory\": \"1024\", \"containerDefinitions\": [{\"name\": \"web\", \"command\": [\"uwsgi\", \"--ini\", \"uwsgi.ini\"]",
        ),
    ]);
    let (code, out, err) = run(p.path(), &["check", "--no-config", "--format", "concise"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("task.json") && out.contains("error[UW001] not valid JSON"),
        "{out}"
    );
}

#[test]
fn a_hundred_thousand_env_lines_are_merged_in_linear_time() {
    // Quadratic merging took over a minute here; the run is bounded.
    let mut dockerfile = String::from("FROM python:3.12\n");
    for i in 0..100_000 {
        dockerfile.push_str(&format!("ENV V{} {i}\n", i % 50_000));
    }
    dockerfile.push_str("ENV UWSGI_WORKERS 3\nCMD [\"uwsgi\", \"--ini\", \"uwsgi.ini\"]\n");
    let p = project(&[("uwsgi.ini", INI), ("Dockerfile", dockerfile.as_bytes())]);
    let (code, out, err) = run(
        p.path(),
        &["check", "--no-config", "--format", "json", "-v"],
    );
    assert!(code == Some(0) || code == Some(1), "{out}{err}");
    assert!(out.contains("UWSGI_WORKERS"), "{out}");
}

#[test]
fn an_oversized_context_file_is_reported() {
    let mut nginx = b"events {}\nhttp {\n".to_vec();
    nginx.resize(17 << 20, b'#');
    let p = project(&[("uwsgi.ini", INI), ("nginx.conf", &nginx)]);
    let (code, out, err) = run(p.path(), &["check", "--no-config", "--format", "concise"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("nginx.conf:1:1: error[UW001] cannot read it: larger than 16 MiB"),
        "{out}"
    );
}

/// Run the tool in `dir` under a virtual-memory cap of `cap_mib` and
/// return its exit code, its standard output and its peak resident memory
/// in MiB (the kernel's count, from `wait4`): a deterministic quantity,
/// unlike time.
fn run_measured(dir: &Path, args: &[&str], cap_mib: u64) -> (Option<i32>, String, u64) {
    use std::os::unix::process::ExitStatusExt;
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let out_path = dir.join(".out");
    let mut sh = Command::new("sh");
    sh.current_dir(dir)
        .arg("-c")
        .arg(format!(
            "ulimit -v {}; exec '{}' {}",
            cap_mib * 1024,
            env!("CARGO_BIN_EXE_uwsgi-lint"),
            quoted.join(" ")
        ))
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::process::Stdio::null());
    // Reaped below by wait4, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = sh.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let started = std::time::Instant::now();
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our child, not yet reaped; both out-pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break (std::process::ExitStatus::from_raw(status), usage);
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "uwsgi-lint {args:?} hung"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    (status.code(), out, usage.ru_maxrss as u64 / 1024)
}

/// Peak memory allowed (MiB) for the two large inputs below. Measured on
/// the debug build: 88 MiB for the Compose file (2.8 GB before the
/// containers of a group shared their list of names), 393 MiB for the
/// Nginx file (592 MB before; the syntax tree itself is most of it).
const COMPOSE_PEAK_MIB: u64 = 256;
const NGINX_PEAK_MIB: u64 = 512;

/// 5,000 Compose services running the project's config (2.8 GB before: a
/// copy of the project per link).
#[test]
fn five_thousand_compose_services_stay_within_memory() {
    let mut compose = String::from("services:\n");
    for i in 0..5000 {
        compose.push_str(&format!(
            "  web{i}:\n    image: app\n    command: uwsgi --ini uwsgi.ini --processes {}\n    mem_limit: 512m\n    ports: [\"{}:8000\"]\n",
            1 + i % 8,
            10000 + i
        ));
    }
    let p = project(&[
        ("uwsgi.ini", INI),
        ("docker-compose.yml", compose.as_bytes()),
    ]);
    let (code, out, peak) = run_measured(
        p.path(),
        &["check", "--no-config", "--format", "json"],
        2048,
    );
    assert!(matches!(code, Some(0 | 1)), "exit {code:?}\n{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
    assert!(v.get("diagnostics").is_some(), "{out}");
    eprintln!("5,000 Compose services: peak RSS {peak} MiB");
    assert!(peak < COMPOSE_PEAK_MIB, "peak RSS {peak} MiB");
}

/// A 16 MiB Nginx file (just under the size cap) of server blocks (592 MB
/// of memory before).
#[test]
fn a_16_mib_nginx_file_stays_within_memory() {
    let block = b"server {\n    listen 80;\n    server_name example.com;\n    location / {\n        include uwsgi_params;\n        uwsgi_pass 127.0.0.1:8000;\n        uwsgi_read_timeout 30s;\n    }\n}\n";
    let mut nginx = b"events {}\nhttp {\n".to_vec();
    while nginx.len() + block.len() + 2 < (16 << 20) - 1024 {
        nginx.extend_from_slice(block);
    }
    nginx.extend_from_slice(b"}\n");
    let p = project(&[("uwsgi.ini", INI), ("nginx.conf", &nginx)]);
    let (code, out, peak) = run_measured(
        p.path(),
        &["check", "--no-config", "--format", "concise"],
        2048,
    );
    assert!(matches!(code, Some(0 | 1)), "exit {code:?}\n{out}");
    assert!(!out.contains("larger than 16 MiB"), "{out}");
    eprintln!("16 MiB Nginx file: peak RSS {peak} MiB");
    assert!(peak < NGINX_PEAK_MIB, "peak RSS {peak} MiB");
}

/// A config that expands to thousands of options with a finding each:
/// at most 1,000 findings are reported for the file, and one more says
/// how many were left out, with the severity that keeps the exit status.
#[test]
fn findings_per_file_are_capped() {
    let mut ini = String::from("[uwsgi]\nmaster = true\nmodule = app.wsgi\nhttp-socket = :8000\n");
    for i in 0..3000 {
        ini.push_str(&format!("no-such-option-{i} = 1\n"));
    }
    let p = project(&[("uwsgi.ini", ini.as_bytes())]);
    let (code, out, _) = run(p.path(), &["check", "--no-config", "--format", "json"]);
    assert_eq!(code, Some(1), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("a JSON report");
    let diags = v["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diags.len(), 1001, "{} findings", diags.len());
    let summary: Vec<&serde_json::Value> = diags
        .iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("are not shown: at most 1000 are reported per file"))
        })
        .collect();
    assert_eq!(summary.len(), 1, "{out}");
    let left_out: usize = summary[0]["message"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(left_out >= 2000, "{left_out} left out");
    // The findings left out are of the same rule as those shown: the
    // summary has their severity.
    let shown = diags
        .iter()
        .find(|d| d["code"] == "UW101")
        .expect("UW101 findings shown");
    assert_eq!(summary[0]["severity"], shown["severity"], "{}", summary[0]);
}
