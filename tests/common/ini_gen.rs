//! A generator of uWSGI ini configs for the differential test against the
//! real server: sections, comments, quotes, odd bytes, placeholders
//! (`%(x)`, `$(X)`, `@(file)`, magic `%X`), includes, `[section]`
//! selection and logic blocks. Deterministic for a seed (splitmix64).
//!
//! Nothing generated makes uWSGI execute or fetch anything: no `exec://`
//! or other `@()` schemes, no hooks, no plugins, no option that acts before
//! the exit hook (`chdir`, `logto`, `daemonize` ...); every file named is
//! one of the case's own, relative to its temporary directory.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// One generated case: files (relative name, bytes), the environment, the
/// `--ini` argument and extra command-line options.
pub struct GenCase {
    pub files: Vec<(String, Vec<u8>)>,
    pub env: Vec<(String, String)>,
    pub spec: String,
    pub args: Vec<String>,
}

/// Options that only collect (nothing acts on them before the exit hook).
const KEYS: &[&str] = &[
    "processes",
    "workers",
    "threads",
    "master",
    "module",
    "buffer-size",
    "harakiri",
    "limit-as",
    "max-requests",
    "reload-on-rss",
    "env",
    "vacuum",
    "listen",
    "post-buffering",
    "enable-threads",
    "die-on-term",
    "lazy-apps",
    "thunder-lock",
    "a",
    "b",
    "mykey",
    "name",
    "port",
    "base",
    "app_dir",
    "max_requests",
];
const WORDS: &[&str] = &[
    "4",
    "0",
    "-1",
    "64k",
    "1M",
    "2G",
    "512m",
    "1.5",
    "true",
    "false",
    "yes",
    "app:application",
    ":8000",
    "127.0.0.1:9000",
    "/run/app.sock",
    "x y  z",
    "\"quoted\"",
    "'single'",
    "a=b",
    "==",
    "value ; not a comment",
    "value # neither",
    "\t tabbed \t",
    "UTF-8 é",
    "\u{0}nul",
    "",
];
const PLACEHOLDERS: &[&str] = &[
    "%(a)",
    "%(b)",
    "%(processes)",
    "%(undefined)",
    "%(mykey)",
    "%(a)%(b)",
    "%(a+1)",
    "%(processes*2)",
    "%(_)",
    "%(name)",
    "%(",
    "%()",
    "$(X)",
    "$(Y)",
    "$(UNDEF)",
    "$(",
    "$(X)$(X)",
    "@(value.txt)",
    "@(missing.txt)",
    "@(lines.txt)",
    "@(",
    "%d",
    "%n",
    "%e",
    "%x",
    "%p",
    "%c",
    "%s",
    "%0",
    "%%",
    "%v",
    "%k",
    "%q",
    "%",
    "%(%(a))",
    "%%(a)",
    "$(%(a))",
];
const FILES: &[&str] = &["other.ini", "base.ini", "missing.ini", "sub/inc.ini"];
const SECTIONS: &[&str] = &["uwsgi", "other", "base", "none"];

fn value(r: &mut Rng) -> String {
    let mut v = String::new();
    for _ in 0..r.below(4) {
        if r.chance(45) {
            v.push_str(PLACEHOLDERS[r.below(PLACEHOLDERS.len())]);
        } else {
            v.push_str(WORDS[r.below(WORDS.len())]);
        }
    }
    v
}

fn entry(r: &mut Rng, out: &mut String, depth: usize) {
    let nl = if r.chance(5) { "\r\n" } else { "\n" };
    let lead = *r.pick(&["", "", "", " ", "\t", "  "]);
    let eq = *r.pick(&[" = ", "=", " =", "= ", " = ", "  =  "]);
    match r.below(100) {
        0..=44 => {
            let k = if r.chance(10) {
                format!("%({})", r.pick(&["a", "mykey"]))
            } else {
                r.pick(KEYS).to_string()
            };
            out.push_str(&format!("{lead}{k}{eq}{}{nl}", value(r)));
        }
        45..=49 => out.push_str(&format!("{lead}{}{nl}", r.pick(KEYS))),
        50..=54 => out.push_str(&format!(
            "{}{}{nl}",
            r.pick(&[";", "#", " ;", "# "]),
            value(r)
        )),
        55..=57 => out.push_str(nl),
        58..=61 => {
            let f = r.pick(FILES);
            let spec = if r.chance(30) {
                format!("{f}:{}", r.pick(SECTIONS))
            } else {
                f.to_string()
            };
            out.push_str(&format!(
                "{}{eq}{spec}{nl}",
                r.pick(&["include", "ini", "inherit"])
            ));
        }
        62..=64 => out.push_str(&format!(
            "{}{eq}{}={}{nl}",
            r.pick(&["set-placeholder", "set-ph", "set"]),
            r.pick(&["a", "b", "mykey", "processes", "x"]),
            value(r)
        )),
        65..=84 if depth < 2 => {
            let open = match r.below(11) {
                0 => format!("for = {}", r.pick(&["a b c", "1 2", "", "%(a) x", "$(Y)"])),
                1 => format!("for-times = {}", r.pick(&["0", "1", "3", "%(a)", "x"])),
                2 => format!("for-readline = {}", r.pick(&["lines.txt", "missing.txt"])),
                3 => format!("for-glob = {}", r.pick(&["*.ini", "sub/*", "none*"])),
                4 => format!("if-env = {}", r.pick(&["X", "UNDEF", "EMPTY"])),
                5 => format!("if-not-env = {}", r.pick(&["X", "UNDEF"])),
                6 => format!(
                    "if-opt = {}",
                    r.pick(&["processes", "master", "a=1", "processes=4", "undefined"])
                ),
                7 => format!("if-not-opt = {}", r.pick(&["processes", "threads"])),
                8 => format!(
                    "if-exists = {}",
                    r.pick(&["other.ini", "missing.ini", "sub"])
                ),
                9 => format!("if-file = {}", r.pick(&["other.ini", "sub"])),
                _ => format!("if-dir = {}", r.pick(&["sub", "other.ini"])),
            };
            out.push_str(&format!("{lead}{open}{nl}"));
            for _ in 0..r.below(4) {
                entry(r, out, depth + 1);
            }
            if !r.chance(8) {
                let close = if open.starts_with("for") {
                    *r.pick(&["endfor", "end", "endfor ="])
                } else {
                    *r.pick(&["endif", "end", "end-if"])
                };
                out.push_str(&format!("{close}{nl}"));
            }
        }
        85..=89 => {
            let s = r.pick(SECTIONS);
            out.push_str(&match r.below(6) {
                0 => format!("[ {s} ]{nl}"),
                1 => format!("[{s}{nl}"),
                2 => format!("  [{s}]  {nl}"),
                _ => format!("[{s}]{nl}"),
            });
        }
        90..=91 => out.push_str(&format!(
            "{}{nl}",
            r.pick(&["strict = true", "strict = false", "strict"])
        )),
        92..=93 => {
            // Odd bytes.
            let b = *r.pick(&["\u{0}", "\r", "\u{7f}", "ÿ", "\u{1b}", "=", "[", "]"]);
            out.push_str(&format!("{}{b}{}{nl}", r.pick(KEYS), value(r)));
        }
        _ => out.push_str(&format!("{lead}{}{eq}{}", r.pick(KEYS), value(r))),
    }
}

fn ini(r: &mut Rng, lines: usize) -> Vec<u8> {
    let mut s = String::new();
    if !r.chance(5) {
        s.push_str(if r.chance(90) {
            "[uwsgi]\n"
        } else {
            "[other]\n"
        });
    }
    for _ in 0..lines {
        entry(r, &mut s, 0);
    }
    let mut b = s.into_bytes();
    // A `%` ending a file makes uWSGI read past its buffer: what it prints
    // then is undefined (docs/resolver.md), so no file ends with one.
    if b.last() == Some(&b'%') {
        b.push(b'x');
    }
    // Non-UTF-8 bytes now and then.
    if r.chance(5) && !b.is_empty() {
        let at = r.below(b.len());
        b.insert(at, 0xff);
    }
    b
}

pub fn generate(seed: u64) -> GenCase {
    let mut r = Rng::new(seed);
    let main_lines = 2 + r.below(12);
    let mut files = vec![("main.ini".to_string(), ini(&mut r, main_lines))];
    for (name, most) in [("other.ini", 5), ("base.ini", 4), ("sub/inc.ini", 3)] {
        let n = r.below(most);
        files.push((name.to_string(), ini(&mut r, n)));
    }
    files.extend([
        (
            "value.txt".to_string(),
            r.pick(&[&b"from-file"[..], b"two\nlines\n", b"", b"%(a)"])
                .to_vec(),
        ),
        (
            "lines.txt".to_string(),
            r.pick(&[&b"l1\nl2\n"[..], b"one", b"", b"a b\n\nc\n"])
                .to_vec(),
        ),
    ]);
    if r.chance(10) {
        files.retain(|(n, _)| n != "other.ini");
    }
    let mut env = vec![
        ("X".to_string(), "1".to_string()),
        ("Y".to_string(), "two words".to_string()),
    ];
    if r.chance(30) {
        env.push(("EMPTY".to_string(), String::new()));
    }
    if r.chance(20) {
        env.push((
            "UWSGI_PROCESSES".to_string(),
            r.pick(&["2", "%(a)", "$(X)"]).to_string(),
        ));
    }
    env.sort();
    let spec = match r.below(10) {
        0 => "main.ini:other".to_string(),
        1 => "main.ini:base".to_string(),
        _ => "main.ini".to_string(),
    };
    let mut args = Vec::new();
    if r.chance(20) {
        args.push("--processes".to_string());
        args.push(r.pick(&["3", "%(a)"]).to_string());
    }
    if r.chance(10) {
        args.push("--set-placeholder".to_string());
        args.push("a=cli".to_string());
    }
    GenCase {
        files,
        env,
        spec,
        args,
    }
}
