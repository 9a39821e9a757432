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
