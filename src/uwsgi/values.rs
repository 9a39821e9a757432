//! Typed values, read exactly as uWSGI 2.0.x's parser functions read them
//! (facts §3.1): `atoi`/`strtoul` prefix semantics, no suffixes, clamps.
//!
//! Each reader returns what uWSGI will use *and* how it got there, so a rule
//! can say "`1G` is read as 1 MiB" instead of only "bad value".

use crate::uwsgi::options::ValueKind;

/// How much of the text a numeric parser consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericRead {
    /// The whole (trimmed) text was a number.
    Exact,
    /// A numeric prefix was read and the rest ignored (`4 ; x`, `1G`, `2.9`).
    Prefix,
    /// No digits at all: the value is 0 (`"30"`, `abc`, empty).
    NoDigits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numeric {
    /// The number the parser produced (after wrap/clamp), in the parser's unit:
    /// bytes for megabytes options are `value * 1 MiB`.
    pub value: u64,
    /// For signed parsers: the value was negative (fatal for set_int).
    pub negative: bool,
    pub read: NumericRead,
    /// `buffer-size` above 65535 was clamped.
    pub clamped: bool,
    /// Byte index where parsing stopped (into the given text).
    pub stop: usize,
}

fn skip_c_space(b: &[u8]) -> usize {
    // isspace() in the C locale
    b.iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(b.len())
}

/// C `atoi`: optional blanks, optional sign, decimal digits; stops at the first
/// other byte. Overflow is undefined in C; glibc's atoi is `(int) strtol`,
/// which saturates to long and then truncates to 32 bits.
pub fn atoi(text: &[u8]) -> (i64, usize, bool) {
    let (v, stop, digits) = strtol(text);
    let truncated = v as i32 as i64;
    (truncated, stop, digits)
}

/// C `strtoll` base 10, saturating (used by `%()` arithmetic).
pub fn strtoll(text: &[u8]) -> i64 {
    strtol(text).0
}

/// C `strtol` base 10 on a 64-bit long: returns (value, stop, any digits).
fn strtol(text: &[u8]) -> (i64, usize, bool) {
    let mut i = skip_c_space(text);
    let mut neg = false;
    if i < text.len() && (text[i] == b'+' || text[i] == b'-') {
        neg = text[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut acc: i128 = 0;
    while i < text.len() && text[i].is_ascii_digit() {
        acc = (acc * 10 + (text[i] - b'0') as i128).min(i64::MAX as i128 + 1);
        i += 1;
    }
    if i == digits_start {
        return (0, 0, false);
    }
    let v = if neg { -acc } else { acc };
    (v.clamp(i64::MIN as i128, i64::MAX as i128) as i64, i, true)
}

/// C `strtoul` base 10: a leading `-` negates modulo 2^64; saturates at u64::MAX.
pub fn strtoul(text: &[u8]) -> (u64, usize, bool) {
    let mut i = skip_c_space(text);
    let mut neg = false;
    if i < text.len() && (text[i] == b'+' || text[i] == b'-') {
        neg = text[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut acc: u64 = 0;
    let mut overflow = false;
    while i < text.len() && text[i].is_ascii_digit() {
        match acc
            .checked_mul(10)
            .and_then(|a| a.checked_add((text[i] - b'0') as u64))
        {
            Some(a) => acc = a,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return (0, 0, false);
    }
    if overflow {
        return (u64::MAX, i, true);
    }
    (if neg { acc.wrapping_neg() } else { acc }, i, true)
}

fn classify(text: &[u8], stop: usize, digits: bool) -> NumericRead {
    if !digits {
        NumericRead::NoDigits
    } else if text[stop..].iter().all(|c| c.is_ascii_whitespace()) {
        NumericRead::Exact
    } else {
        NumericRead::Prefix
    }
}

/// Read `text` with the parser of `kind`. `None` for non-numeric kinds.
/// A missing value (`None`, a CLI flag without argument) reads as 1.
pub fn read_numeric(kind: ValueKind, text: Option<&[u8]>) -> Option<Numeric> {
    let Some(text) = text else {
        return kind.is_numeric().then_some(Numeric {
            value: 1,
            negative: false,
            read: NumericRead::Exact,
            clamped: false,
            stop: 0,
        });
    };
    let n = match kind {
        ValueKind::Int => {
            let (v, stop, digits) = atoi(text);
            Numeric {
                value: v.max(0) as u64,
                negative: v < 0,
                read: classify(text, stop, digits),
                clamped: false,
                stop,
            }
        }
        ValueKind::U64 | ValueKind::U16 | ValueKind::Megabytes => {
            let (v, stop, digits) = strtoul(text);
            let (value, clamped) = match kind {
                ValueKind::U16 if v > 65535 => (65535, true),
                ValueKind::Megabytes => (v.wrapping_mul(1024 * 1024), false),
                _ => (v, false),
            };
            Numeric {
                value,
                negative: false,
                read: classify(text, stop, digits),
                clamped,
                stop,
            }
        }
        _ => return None,
    };
    Some(n)
}

/// `uwsgi_opt_true`: on unless the value is false/off/no (any case) or `0`.
/// A CLI flag (no value) is on.
pub fn read_flag(text: Option<&[u8]>) -> bool {
    match text {
        None => true,
        Some(t) => {
            let lower = t.to_ascii_lowercase();
            !(lower == b"false" || lower == b"off" || lower == b"no" || t == b"0")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> Numeric {
        read_numeric(ValueKind::Int, Some(s.as_bytes())).unwrap()
    }

    #[test]
    fn atoi_semantics_match_facts() {
        // facts §3.3
        assert_eq!(int("\"4\"").value, 0);
        assert_eq!(int("\"4\"").read, NumericRead::NoDigits);
        assert_eq!(int("0x10").value, 0);
        assert_eq!(int("0x10").read, NumericRead::Prefix);
        assert_eq!(int("2.9").value, 2);
        assert_eq!(int("1e3").value, 1);
        assert!(int("-1").negative);
        assert_eq!(int("4 ; inline").value, 4);
        assert_eq!(int("4 ; inline").read, NumericRead::Prefix);
        assert_eq!(int("  8").read, NumericRead::Exact);
        assert_eq!(int("").value, 0);
    }

    #[test]
    fn megabytes_ignore_suffix() {
        let g = read_numeric(ValueKind::Megabytes, Some(b"1G")).unwrap();
        assert_eq!(g.value, 1024 * 1024);
        assert_eq!(g.read, NumericRead::Prefix);
        let k = read_numeric(ValueKind::Megabytes, Some(b"1024k")).unwrap();
        assert_eq!(k.value, 1024 * 1024 * 1024);
        assert_eq!(
            read_numeric(ValueKind::Megabytes, Some(b"0.5"))
                .unwrap()
                .value,
            0
        );
    }

    #[test]
    fn sixteen_bit_clamps() {
        let b = read_numeric(ValueKind::U16, Some(b"100000")).unwrap();
        assert_eq!((b.value, b.clamped), (65535, true));
        assert_eq!(
            read_numeric(ValueKind::U16, Some(b"32k")).unwrap().value,
            32
        );
    }

    #[test]
    fn strtoul_negative_wraps() {
        let v = read_numeric(ValueKind::U64, Some(b"-1")).unwrap();
        assert_eq!(v.value, u64::MAX);
    }

    #[test]
    fn flags() {
        for on in [
            None,
            Some(&b""[..]),
            Some(b"true"),
            Some(b"1"),
            Some(b"n"),
            Some(b"yes"),
        ] {
            assert!(read_flag(on), "{on:?}");
        }
        for off in [&b"false"[..], b"OFF", b"No", b"0"] {
            assert!(!read_flag(Some(off)));
        }
    }
}
