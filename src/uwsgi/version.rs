//! uWSGI release numbers (`2.0.21`), for version-gated options and behaviour.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Version {
    type Err = String;

    /// Accepts `2.0`, `2.0.21`, and Debian-style `2.0.21-5.1` (the suffix is dropped).
    fn from_str(s: &str) -> Result<Version, String> {
        let core = s.trim().split(['-', '+', '~']).next().unwrap_or_default();
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(format!("`{s}` is not a uWSGI version (expected X.Y.Z)"));
        }
        let num = |p: &str| {
            p.parse::<u32>()
                .map_err(|_| format!("`{s}` is not a uWSGI version (expected X.Y.Z)"))
        };
        Ok(Version::new(
            num(parts[0])?,
            num(parts[1])?,
            match parts.get(2) {
                Some(p) => num(p)?,
                None => 0,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!("2.0.21".parse(), Ok(Version::new(2, 0, 21)));
        assert_eq!("2.0.21-5.1".parse(), Ok(Version::new(2, 0, 21)));
        assert_eq!("2.0".parse(), Ok(Version::new(2, 0, 0)));
        assert!("two".parse::<Version>().is_err());
        assert!(Version::new(2, 0, 29) > Version::new(2, 0, 21));
    }
}

/// A `uwsgi==X` / `pyuwsgi==X` pin in a requirements file (comments and
/// environment markers ignored). Ranges are no pin.
pub fn pin_in_requirements(text: &str) -> Option<(Version, std::ops::Range<usize>)> {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let code = line.split('#').next().unwrap_or("").trim();
        let lower = code.to_ascii_lowercase().replace(' ', "");
        for name in ["uwsgi==", "pyuwsgi=="] {
            if let Some(v) = lower.strip_prefix(name)
                && let Ok(v) = v.split([';', ',', '[']).next().unwrap_or("").parse()
            {
                let lead = line.len() - line.trim_start().len();
                return Some((v, start + lead..start + lead + code.len()));
            }
        }
    }
    None
}

/// A uWSGI pin in `pyproject.toml`: PEP 621 `dependencies = ["uwsgi==X"]` or
/// Poetry `uwsgi = "X"` / `"==X"` (a caret or tilde range is no pin).
pub fn pin_in_pyproject(text: &str) -> Option<(Version, std::ops::Range<usize>)> {
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let t = line.trim().to_ascii_lowercase();
        let found = t.split(['"', '\'']).find_map(|s| {
            let s = s.replace(' ', "");
            let v = s
                .strip_prefix("uwsgi==")
                .or_else(|| s.strip_prefix("pyuwsgi=="))?;
            v.split([';', ',']).next()?.parse::<Version>().ok()
        });
        let poetry = || {
            let (k, v) = t.split_once('=')?;
            let k = k.trim();
            if k != "uwsgi" && k != "pyuwsgi" {
                return None;
            }
            let v = v.trim().trim_matches(['"', '\'']).trim_start_matches("==");
            if v.starts_with(['^', '~', '>', '<', '*', '{']) {
                return None;
            }
            v.parse::<Version>().ok()
        };
        if let Some(v) = found.or_else(poetry) {
            let lead = line.len() - line.trim_start().len();
            return Some((v, start + lead..start + line.trim_end().len()));
        }
    }
    None
}

#[cfg(test)]
mod pin_tests {
    use super::*;

    #[test]
    fn pins_in_requirements_and_pyproject() {
        let (v, r) = pin_in_requirements(
            "django==5.0\n  uWSGI == 2.0.23 ; sys_platform != 'win32'  # prod\n",
        )
        .unwrap();
        assert_eq!(v, Version::new(2, 0, 23));
        assert_eq!(r.start, 14);
        assert!(pin_in_requirements("uwsgi>=2.0\n").is_none());
        let py = "[project]\ndependencies = [\n  \"uwsgi==2.0.28\",\n]\n";
        assert_eq!(pin_in_pyproject(py).unwrap().0, Version::new(2, 0, 28));
        assert_eq!(
            pin_in_pyproject("[tool.poetry.dependencies]\nuwsgi = \"2.0.21\"\n")
                .unwrap()
                .0,
            Version::new(2, 0, 21)
        );
        assert!(pin_in_pyproject("uwsgi = \"^2.0.21\"\n").is_none());
    }
}
