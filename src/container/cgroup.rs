//! The live cgroup limit (`check --detect`, containers-and-nginx.md §3.5):
//! cgroup v2 `memory.max` / `cpu.max`, or v1 `memory.limit_in_bytes` /
//! `cpu.cfs_quota_us`. `max`, or a v1 value at or above the host's memory,
//! means no limit.

use std::path::{Path, PathBuf};

use super::{At, Container, MemoryValue, Orchestrator};
use crate::source::Span;
use crate::units::Bytes;

#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub version: u8,
    /// The file the limit came from.
    pub memory_file: PathBuf,
    pub memory: Option<Bytes>,
    pub cpus: Option<f64>,
    /// The memory file could not be read or understood: not "no limit".
    pub problem: Option<String>,
}

/// Why a memory file's text is neither "no limit" nor a byte count.
fn memory_problem(file: &Path, text: Option<&str>) -> Option<String> {
    let Some(t) = text.map(str::trim) else {
        return Some(format!("cannot read {}", file.display()));
    };
    (t != "max" && t.parse::<u64>().is_err()).then(|| {
        let shown: String = t.chars().take(40).collect();
        format!(
            "{} holds `{shown}`, neither `max` nor a byte count",
            file.display()
        )
    })
}

/// `memory.max` (v2): `max` or bytes.
pub fn parse_v2_memory(s: &str) -> Option<Bytes> {
    let t = s.trim();
    if t == "max" {
        return None;
    }
    t.parse().ok().map(Bytes)
}

/// `cpu.max` (v2): `max 100000` or `150000 100000`.
pub fn parse_v2_cpu(s: &str) -> Option<f64> {
    let mut w = s.split_whitespace();
    let quota: f64 = w.next()?.parse().ok()?;
    let period: f64 = w.next()?.parse().ok()?;
    (period > 0.0 && quota > 0.0).then(|| quota / period)
}

/// `memory.limit_in_bytes` (v1): unlimited shows as a huge number.
pub fn parse_v1_memory(s: &str, host_total: Option<u64>) -> Option<Bytes> {
    let v: u64 = s.trim().parse().ok()?;
    let unlimited = v >= 1 << 62 || host_total.is_some_and(|t| v >= t);
    (!unlimited).then_some(Bytes(v))
}

fn host_mem_total(proc_root: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(proc_root.join("meminfo")).ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// This process's own cgroup directory under a hierarchy mounted at
/// `mount`: its path in `/proc/self/cgroup` (the v2 line `0::/p`, or the v1
/// line naming `controller`), less the root of that mount as
/// `/proc/self/mountinfo` gives it. Without a cgroup namespace (a process
/// put into a child cgroup, systemd services) the mount shows the host's
/// root, not the cgroup that limits us; inside a namespace both are `/`.
fn own_dir(mount: &Path, proc_root: &Path, controller: Option<&str>) -> PathBuf {
    let read = |p: PathBuf| std::fs::read_to_string(p).ok();
    let path = read(proc_root.join("self/cgroup")).and_then(|t| {
        t.lines().find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, list, path) = (f.next()?, f.next()?, f.next()?);
            let wanted = match controller {
                None => list.is_empty(),
                Some(c) => list.split(',').any(|x| x == c),
            };
            wanted.then(|| path.to_string())
        })
    });
    let Some(path) = path else {
        return mount.to_path_buf();
    };
    // mountinfo: `id parent dev root mountpoint ... - fstype ...`.
    let mount_root = read(proc_root.join("self/mountinfo"))
        .and_then(|t| {
            t.lines().find_map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (f.get(4).map(Path::new) == Some(mount)).then(|| f.get(3).map(|r| r.to_string()))?
            })
        })
        .unwrap_or_else(|| "/".to_string());
    let rel = Path::new(&path)
        .strip_prefix(&mount_root)
        .ok()
        .map(Path::to_path_buf);
    match rel {
        Some(r) if !r.as_os_str().is_empty() && !path.contains("..") => {
            let dir = mount.join(r);
            if dir.is_dir() {
                dir
            } else {
                mount.to_path_buf()
            }
        }
        _ => mount.to_path_buf(),
    }
}

/// Read the limits of this process's cgroup, in the hierarchy mounted at
/// `root` (normally `/sys/fs/cgroup`).
pub fn detect(root: &Path, proc_root: &Path) -> Option<Detected> {
    let read = |p: &Path| {
        crate::source::read_regular(p, 4096)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    if root.join("cgroup.controllers").exists() {
        let root = &own_dir(root, proc_root, None);
        let file = root.join("memory.max");
        let text = read(&file);
        return Some(Detected {
            version: 2,
            problem: memory_problem(&file, text.as_deref()),
            memory: text.as_deref().and_then(parse_v2_memory),
            cpus: read(&root.join("cpu.max"))
                .as_deref()
                .and_then(parse_v2_cpu),
            memory_file: file,
        });
    }
    let memory = own_dir(&root.join("memory"), proc_root, Some("memory"));
    let cpu = own_dir(&root.join("cpu"), proc_root, Some("cpu"));
    let file = memory.join("memory.limit_in_bytes");
    let text = read(&file)?;
    let quota = read(&cpu.join("cpu.cfs_quota_us")).and_then(|q| q.trim().parse::<f64>().ok());
    let period = read(&cpu.join("cpu.cfs_period_us")).and_then(|q| q.trim().parse::<f64>().ok());
    Some(Detected {
        version: 1,
        problem: memory_problem(&file, Some(&text)),
        memory: parse_v1_memory(&text, host_mem_total(proc_root)),
        cpus: match (quota, period) {
            (Some(q), Some(p)) if q > 0.0 && p > 0.0 => Some(q / p),
            _ => None,
        },
        memory_file: file,
    })
}

impl Detected {
    /// The running container as a [`Container`] (no command: it is the one
    /// `--detect` runs in, linked to every config checked).
    pub fn container(&self) -> Container {
        let mut c = Container::new(
            Orchestrator::Cgroup,
            self.memory_file.clone(),
            format!("cgroup v{}", self.version),
            Span::default(),
        );
        if let Some(b) = self.memory {
            c.hard.push(MemoryValue {
                bytes: b,
                raw: b.0.to_string(),
                key: self.memory_file.display().to_string(),
                span: Span::default(),
                slip: None,
            });
            c.set_limit_from_hard();
        }
        c.cpus = self.cpus.map(|v| At::new(v, Span::default()));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_v2_and_v1_layouts() {
        let dir = std::env::temp_dir().join(format!("uwsgi-lint-cg-{}", std::process::id()));
        let v2 = dir.join("v2");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("cgroup.controllers"), "memory cpu\n").unwrap();
        std::fs::write(v2.join("memory.max"), "536870912\n").unwrap();
        std::fs::write(v2.join("cpu.max"), "150000 100000\n").unwrap();
        let d = detect(&v2, &dir).unwrap();
        assert_eq!(
            (d.version, d.memory, d.cpus),
            (2, Some(Bytes(512 << 20)), Some(1.5))
        );
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        assert_eq!(detect(&v2, &dir).unwrap().memory, None);
        assert_eq!(detect(&v2, &dir).unwrap().problem, None);
        // Garbage is no "no limit".
        std::fs::write(v2.join("memory.max"), "lots\n").unwrap();
        let p = detect(&v2, &dir).unwrap().problem.unwrap();
        assert!(
            p.contains("holds `lots`, neither `max` nor a byte count"),
            "{p}"
        );

        let v1 = dir.join("v1");
        std::fs::create_dir_all(v1.join("memory")).unwrap();
        std::fs::write(
            v1.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        let d = detect(&v1, &dir).unwrap();
        assert_eq!((d.version, d.memory), (1, None));
        assert_eq!(
            parse_v1_memory("1073741824", Some(8 << 30)),
            Some(Bytes(1 << 30))
        );
        assert_eq!(parse_v1_memory("9000000000", Some(8 << 30)), None);
        assert!(detect(&dir.join("none"), &dir).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_the_own_cgroup_below_the_mount() {
        let dir = std::env::temp_dir().join(format!("uwsgi-lint-cgown-{}", std::process::id()));
        let proc_root = dir.join("proc");
        std::fs::create_dir_all(proc_root.join("self")).unwrap();
        // v1, no cgroup namespace: the mount shows the host's root.
        let v1 = dir.join("v1");
        let mine = v1.join("memory/job/7");
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::write(
            v1.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        std::fs::write(mine.join("memory.limit_in_bytes"), "268435456\n").unwrap();
        std::fs::write(
            proc_root.join("self/cgroup"),
            "5:cpu,cpuacct:/\n4:memory:/job/7\n0::/\n",
        )
        .unwrap();
        std::fs::write(
            proc_root.join("self/mountinfo"),
            format!(
                "35 31 0:32 / {} rw,relatime - cgroup cgroup rw,memory\n",
                v1.join("memory").display()
            ),
        )
        .unwrap();
        let d = detect(&v1, &proc_root).unwrap();
        assert_eq!((d.version, d.memory), (1, Some(Bytes(256 << 20))));
        assert_eq!(d.memory_file, mine.join("memory.limit_in_bytes"));
        // v2: the `0::` line; a mount whose root is the cgroup (a namespace).
        let v2 = dir.join("v2");
        std::fs::create_dir_all(v2.join("svc")).unwrap();
        std::fs::write(v2.join("cgroup.controllers"), "memory cpu\n").unwrap();
        std::fs::write(v2.join("memory.max"), "max\n").unwrap();
        std::fs::write(v2.join("svc/memory.max"), "134217728\n").unwrap();
        std::fs::write(proc_root.join("self/cgroup"), "0::/svc\n").unwrap();
        std::fs::write(proc_root.join("self/mountinfo"), "").unwrap();
        assert_eq!(
            detect(&v2, &proc_root).unwrap().memory,
            Some(Bytes(128 << 20))
        );
        std::fs::write(
            proc_root.join("self/mountinfo"),
            format!("41 31 0:38 /svc {} rw - cgroup2 cgroup2 rw\n", v2.display()),
        )
        .unwrap();
        assert_eq!(detect(&v2, &proc_root).unwrap().memory, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
