//! Units as types: a memory amount is `Bytes`, never a bare integer whose
//! unit lives in a comment. Conversions are explicit.

use std::fmt;

/// An amount of memory in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Bytes(pub u64);

pub const KIB: u64 = 1 << 10;
pub const MIB: u64 = 1 << 20;
pub const GIB: u64 = 1 << 30;

impl Bytes {
    pub fn from_mib(mib: u64) -> Bytes {
        Bytes(mib.saturating_mul(MIB))
    }

    /// Whole MiB, rounded down.
    pub fn mib(self) -> u64 {
        self.0 / MIB
    }
}

impl fmt::Display for Bytes {
    /// The largest binary unit that keeps the number whole: `1 GiB`, `512 MiB`, `100 B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b >= GIB && b.is_multiple_of(GIB) {
            write!(f, "{} GiB", b / GIB)
        } else if b >= MIB && b.is_multiple_of(MIB) {
            write!(f, "{} MiB", b / MIB)
        } else if b >= KIB && b.is_multiple_of(KIB) {
            write!(f, "{} KiB", b / KIB)
        } else if b >= MIB {
            write!(f, "{:.1} MiB", b as f64 / MIB as f64)
        } else {
            write!(f, "{b} B")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_picks_a_whole_unit() {
        assert_eq!(Bytes(GIB).to_string(), "1 GiB");
        assert_eq!(Bytes::from_mib(512).to_string(), "512 MiB");
        assert_eq!(Bytes(512).to_string(), "512 B");
        assert_eq!(Bytes(3 * MIB / 2).to_string(), "1536 KiB");
        assert_eq!(Bytes::from_mib(2064).mib(), 2064);
    }
}
