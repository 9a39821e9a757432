//! Magic variables (`%d`, `%n`, `%k` ...), substituted in a file's raw text
//! when uWSGI reads it (facts §1.6).
//!
//! The table starts with *every* byte mapped to the empty string, so `%`
//! before an unknown character deletes both, and `%` before a newline eats
//! the newline. `%%` is `%`, `%(` stays `%(` for the later placeholder pass.

use std::path::{Path, PathBuf};

/// Facts about the machine uWSGI would run on. For `show-config` these are
/// read from this machine; for a container they are mostly unknown, which
/// is why rules warn about `%k` and friends rather than trust them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    pub cwd: PathBuf,
    pub hostname: String,
    pub cpus: u32,
    pub uid: String,
    pub user: String,
    pub gid: String,
    pub group: String,
    pub version: String,
    pub binary: String,
    /// Unix time in seconds and microseconds (`%t`, `%T`).
    pub now: (u64, u64),
}

impl HostFacts {
    /// What uWSGI would see if started here, read without running anything.
    pub fn local(version: &str) -> HostFacts {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        // sysconf(_SC_NPROCESSORS_ONLN), as uWSGI: online CPUs, not the cgroup quota.
        let cpus = std::fs::read_to_string("/sys/devices/system/cpu/online")
            .ok()
            .and_then(|s| count_cpu_list(s.trim()))
            .or_else(|| {
                std::thread::available_parallelism()
                    .ok()
                    .map(|n| n.get() as u32)
            })
            .unwrap_or(1);
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or("0")
                .to_string()
        };
        let uid = field("Uid:");
        let gid = field("Gid:");
        let name_of = |db: &str, id: &str| {
            std::fs::read_to_string(db)
                .unwrap_or_default()
                .lines()
                .find_map(|l| {
                    let mut f = l.split(':');
                    let name = f.next()?;
                    f.next()?;
                    (f.next()? == id).then(|| name.to_string())
                })
                .unwrap_or_else(|| id.to_string())
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        HostFacts {
            cwd,
            hostname,
            cpus,
            user: name_of("/etc/passwd", &uid),
            group: name_of("/etc/group", &gid),
            uid,
            gid,
            version: version.to_string(),
            binary: "uwsgi".to_string(),
            now: (now.as_secs(), now.as_micros() as u64),
        }
    }
}

impl HostFacts {
    /// This machine's facts without the ones that identify it (host name,
    /// user and group, their ids): for `check` and `advise`, whose reports
    /// leave the machine (CI logs, pull-request annotations) and describe
    /// the server, not the machine linting.
    pub fn anonymous(version: &str) -> HostFacts {
        HostFacts {
            hostname: "<host name>".into(),
            uid: "<uid>".into(),
            user: "<user>".into(),
            gid: "<gid>".into(),
            group: "<group>".into(),
            ..HostFacts::local(version)
        }
    }
}

/// Count CPUs in a kernel list such as `0-3,8,10-11`.
fn count_cpu_list(s: &str) -> Option<u32> {
    let mut n = 0;
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => n += b.parse::<u32>().ok()? - a.parse::<u32>().ok()? + 1,
            None => {
                part.parse::<u32>().ok()?;
                n += 1;
            }
        }
    }
    Some(n)
}

/// The 256-entry substitution table, as `init_magic_table` + fills leave it.
#[derive(Clone)]
pub struct MagicTable {
    vars: Vec<Vec<u8>>,
    first_round_done: bool,
}

impl std::fmt::Debug for MagicTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MagicTable")
    }
}

/// Host-dependent variables: their value depends on where uWSGI runs.
pub const HOST_VARS: &[u8] = b"vhtTkuUgGbiI";

impl MagicTable {
    pub fn new(host: &HostFacts) -> MagicTable {
        let mut vars = vec![Vec::new(); 256];
        vars[b'%' as usize] = b"%".to_vec();
        vars[b'(' as usize] = b"%(".to_vec();
        let mut set = |c: u8, v: &str| vars[c as usize] = v.as_bytes().to_vec();
        set(b'v', &host.cwd.to_string_lossy());
        set(b'h', &host.hostname);
        set(b't', &host.now.0.to_string());
        set(b'T', &host.now.1.to_string());
        set(b'V', &host.version);
        set(b'k', &host.cpus.to_string());
        set(b'u', &host.uid);
        set(b'U', &host.user);
        set(b'g', &host.gid);
        set(b'G', &host.group);
        vars[b'[' as usize] = vec![0x1b];
        vars[b'b' as usize] = host.binary.as_bytes().to_vec();
        MagicTable {
            vars,
            first_round_done: false,
        }
    }

    pub fn get(&self, c: u8) -> &[u8] {
        &self.vars[c as usize]
    }

    fn set(&mut self, c: u8, v: &[u8]) {
        self.vars[c as usize] = v.to_vec();
    }

    /// `config_magic_table_fill`: per-file variables for `name` as given
    /// (possibly `file:section`). `full_path` is the resolved absolute path
    /// (realpath, or cwd-joined for a symlink); `inode` from lstat.
    /// `keep_upper` is uWSGI's `magic_table_first_round` guard (set while
    /// `include`/`inherit` load files), which keeps `%D`, `%N`... of the first file.
    pub fn fill_for_file(
        &mut self,
        name: &[u8],
        full_path: Option<&Path>,
        inode: Option<u64>,
        keep_upper: bool,
    ) {
        let section = name.iter().rposition(|&b| b == b':');
        // uWSGI cuts the section off in place before reading, so %o has none.
        self.set(b'o', &name[..section.unwrap_or(name.len())]);
        let only_section = section == Some(0);
        if !only_section && let Some(full) = full_path {
            let p = full.as_os_str().as_encoded_bytes().to_vec();
            self.set(b'p', &p);
            let hash = djb33x(&p);
            let hex: String = hash
                .to_le_bytes()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect();
            self.set(b'j', hex.as_bytes());
            if let Some(ino) = inode {
                self.set(b'i', ino.to_string().as_bytes());
            }
            let slash = p.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
            let s = p[slash..].to_vec();
            let d = p[..slash].to_vec();
            self.set(b's', &s);
            self.set(b'd', &d);
            let d_trim = d.strip_suffix(b"/").unwrap_or(&d);
            let c = match d_trim.iter().rposition(|&b| b == b'/') {
                Some(i) => d_trim[i + 1..].to_vec(),
                None => Vec::new(),
            };
            self.set(b'c', &c);
            for digit in b'0'..=b'9' {
                self.set(digit, b"");
            }
            for (i, comp) in d_trim
                .split(|&b| b == b'/')
                .filter(|c| !c.is_empty())
                .take(10)
                .enumerate()
            {
                self.set(b'0' + i as u8, comp);
            }
            match s.iter().rposition(|&b| b == b'.') {
                Some(dot) => {
                    self.set(b'e', &s[dot + 1..]);
                    self.set(b'n', &s[..dot]);
                }
                None => {
                    self.set(b'e', b"");
                    self.set(b'n', &s);
                }
            }
        }
        match section {
            Some(i) => self.set(b'x', &name[i + 1..]),
            None => self.set(b'x', b""),
        }
        if !self.first_round_done && !keep_upper {
            for (lower, upper) in [
                (b'o', b'O'),
                (b'd', b'D'),
                (b's', b'S'),
                (b'p', b'P'),
                (b'c', b'C'),
                (b'e', b'E'),
                (b'n', b'N'),
                (b'x', b'X'),
                (b'i', b'I'),
                (b'j', b'J'),
            ] {
                let v = self.get(lower).to_vec();
                self.set(upper, &v);
            }
            self.first_round_done = true;
        }
    }

    /// Only `%o` changes for scheme URLs and `-` (uWSGI returns early).
    pub fn fill_name_only(&mut self, name: &[u8]) {
        self.set(b'o', name);
    }
}

/// uWSGI's djb33x: `hash = hash * 33 ^ c`, with `c` a *signed* char.
fn djb33x(bytes: &[u8]) -> u32 {
    bytes.iter().fold(5381u32, |h, &b| {
        (h << 5).wrapping_add(h) ^ (b as i8 as i32 as u32)
    })
}

/// One `%X` occurrence found while substituting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicUse {
    /// Offset of the `%` in the raw text.
    pub at: usize,
    pub var: u8,
}

/// The substituted text plus where each part of it came from, so spans can
/// be mapped back.
#[derive(Debug, Clone)]
pub struct Substituted {
    pub text: Vec<u8>,
    /// The text as pieces, in order: copied from the raw text, or the value
    /// of one `%X` (every byte of it maps to the `%`). A table of pieces,
    /// not one offset per byte: a keystroke substitutes the whole file.
    pieces: Vec<Piece>,
    /// The length of the text, which the caller may take away.
    len: usize,
    /// Where the end of the text maps to.
    end: usize,
    pub uses: Vec<MagicUse>,
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Start in the substituted text.
    at: usize,
    /// Start in the raw text.
    raw: usize,
    copied: bool,
}

impl Substituted {
    /// The raw offset the substituted byte at `at` came from (`at` at or
    /// past the end maps where the end does).
    pub fn origin(&self, at: usize) -> usize {
        if at >= self.len {
            return self.end;
        }
        let i = self.pieces.partition_point(|p| p.at <= at);
        match i.checked_sub(1).map(|i| self.pieces[i]) {
            Some(p) if p.copied => p.raw + (at - p.at),
            Some(p) => p.raw,
            None => self.end,
        }
    }

    /// Map a span of the substituted text back to the raw file.
    pub fn map_span(&self, start: usize, end: usize) -> crate::source::Span {
        let s = self.origin(start);
        // The end maps to just after the last byte's origin, so a value built
        // from `%d` covers the whole `%d` in the raw text.
        let e = if end > start {
            let last = self.origin(end - 1);
            let next = self.origin(end);
            next.max(last + 1)
        } else {
            s
        };
        crate::source::Span::new(s, e.max(s))
    }
}

/// `magic_sub`: substitute every `%X` in `raw` using `table`.
pub fn substitute(raw: &[u8], table: &MagicTable) -> Substituted {
    let mut text = Vec::with_capacity(raw.len());
    let mut pieces = Vec::new();
    let mut uses = Vec::new();
    let mut end = raw.len();
    let mut i = 0;
    while i < raw.len() {
        // The text up to the next `%` is copied as it is, in one go.
        let next = memchr::memchr(b'%', &raw[i..]).map_or(raw.len(), |n| i + n);
        if next > i {
            pieces.push(Piece {
                at: text.len(),
                raw: i,
                copied: true,
            });
            text.extend_from_slice(&raw[i..next]);
        }
        i = next;
        if i == raw.len() {
            break;
        }
        if i + 1 == raw.len() {
            // uWSGI reads the file with a NUL appended, so a final `%` takes
            // the NUL as its variable and is deleted (uWSGI then reads past its
            // buffer: what follows is undefined; we stop at the end).
            uses.push(MagicUse { at: i, var: 0 });
            end = i;
            break;
        }
        let var = raw[i + 1];
        let val = table.get(var);
        if !val.is_empty() {
            pieces.push(Piece {
                at: text.len(),
                raw: i,
                copied: false,
            });
            text.extend_from_slice(val);
        }
        if var != b'%' && var != b'(' {
            uses.push(MagicUse { at: i, var });
        }
        i += 2;
    }
    Substituted {
        len: text.len(),
        text,
        pieces,
        end,
        uses,
    }
}

/// Is `var` a magic variable uWSGI defines (as opposed to a stray `%`)?
pub fn is_known_var(var: u8) -> bool {
    matches!(
        var,
        b'v' | b'h'
            | b'o'
            | b'O'
            | b'p'
            | b'P'
            | b's'
            | b'S'
            | b'd'
            | b'D'
            | b'e'
            | b'E'
            | b'n'
            | b'N'
            | b'c'
            | b'C'
            | b'0'
            ..=b'9'
                | b'x'
                | b'X'
                | b'i'
                | b'I'
                | b'j'
                | b'J'
                | b't'
                | b'T'
                | b'k'
                | b'u'
                | b'U'
                | b'g'
                | b'G'
                | b'V'
                | b'b'
                | b'['
                | b'%'
                | b'('
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> HostFacts {
        HostFacts {
            cwd: "/srv".into(),
            hostname: "web-1".into(),
            cpus: 2,
            uid: "0".into(),
            user: "root".into(),
            gid: "0".into(),
            group: "root".into(),
            version: "2.0.30".into(),
            binary: "uwsgi".into(),
            now: (1, 2),
        }
    }

    #[test]
    fn file_vars() {
        let mut t = MagicTable::new(&host());
        t.fill_for_file(
            b"conf/app.prod.ini:web",
            Some(Path::new("/srv/conf/app.prod.ini")),
            Some(7),
            false,
        );
        let s = substitute(b"%d|%n|%e|%s|%c|%0|%1|%x|%X|%N|%k|%%|%(a)|%z|", &t);
        assert_eq!(
            String::from_utf8(s.text).unwrap(),
            "/srv/conf/|app.prod|ini|app.prod.ini|conf|srv|conf|web|web|app.prod|2|%|%(a)||"
        );
    }

    #[test]
    fn stray_percent_eats_newline_but_not_at_end() {
        let t = MagicTable::new(&host());
        let s = substitute(b"a = 50%\nb = 1\nc = 9%", &t);
        assert_eq!(s.text, b"a = 50b = 1\nc = 9".to_vec());
        assert_eq!(s.uses.last().map(|u| u.var), Some(0));
        // "b" at output offset 6 comes from raw offset 8
        assert_eq!(s.origin(6), 8);
        // the end maps to the final `%`, which uWSGI deletes
        assert_eq!(s.origin(s.text.len()), 19);
    }

    /// The table of pieces maps every offset as one offset per byte did.
    #[test]
    fn origin_matches_a_map_per_byte() {
        let mut t = MagicTable::new(&host());
        t.fill_for_file(b"a.ini", Some(Path::new("/tmp/a.ini")), None, false);
        for raw in [
            &b""[..],
            b"%",
            b"%%",
            b"x%",
            b"%d%n",
            b"a = %d/x\nb = %z%k%\n%%c%",
            b"%q%q%qabc%(x)%",
        ] {
            let mut per_byte = Vec::new();
            let mut end = raw.len();
            let mut i = 0;
            while i < raw.len() {
                if raw[i] != b'%' {
                    per_byte.push(i);
                    i += 1;
                } else if i + 1 == raw.len() {
                    end = i;
                    break;
                } else {
                    per_byte.extend(std::iter::repeat_n(i, t.get(raw[i + 1]).len()));
                    i += 2;
                }
            }
            let s = substitute(raw, &t);
            assert_eq!(s.text.len(), per_byte.len(), "{raw:?}");
            for (at, want) in per_byte.iter().chain([&end, &end]).enumerate() {
                assert_eq!(s.origin(at), *want, "{raw:?} at {at}");
            }
        }
    }

    #[test]
    fn cpu_list() {
        assert_eq!(count_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("x"), None);
    }

    #[test]
    fn hash_matches_uwsgi_format() {
        // 8 upper-case hex digits of the little-endian u32
        let mut t = MagicTable::new(&host());
        t.fill_for_file(b"a.ini", Some(Path::new("/tmp/a.ini")), None, false);
        let j = t.get(b'j');
        assert_eq!(j.len(), 8);
        assert!(
            j.iter()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }
}
