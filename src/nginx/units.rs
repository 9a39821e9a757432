//! Nginx sizes and times (nginx.org/en/docs/syntax.html; `ngx_parse_size`,
//! `ngx_parse_time`): sizes take `k`/`K`, `m`/`M`, `g`/`G`; times take
//! `ms s m h d w M y` (case-sensitive: `m` minutes, `M` months), several
//! can be combined (`1h 30m`), and a bare number is seconds.

use std::time::Duration;

use crate::units::Bytes;

/// `ngx_parse_size` (with `g` as `ngx_parse_offset` allows it).
pub fn size(s: &str) -> Option<Bytes> {
    let t = s.trim();
    let (num, mult) = match t.as_bytes().last()? {
        b'k' | b'K' => (&t[..t.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&t[..t.len() - 1], 1 << 20),
        b'g' | b'G' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult).map(Bytes)
}

/// `ngx_parse_time`: each number needs a unit except a lone last one,
/// which is seconds; units must not repeat out of order.
pub fn time(s: &str) -> Option<Duration> {
    let b = s.as_bytes();
    let mut total_ms: u128 = 0;
    let mut i = 0;
    let mut last_rank = u8::MAX;
    let mut any = false;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: u128 = s[start..i].parse().ok()?;
        let (ms, rank, len) = match &b[i..] {
            [b'm', b's', ..] => (1, 0, 2),
            [b'y', ..] => (365 * 86_400_000, 7, 1),
            [b'M', ..] => (30 * 86_400_000, 6, 1),
            [b'w', ..] => (7 * 86_400_000, 5, 1),
            [b'd', ..] => (86_400_000, 4, 1),
            [b'h', ..] => (3_600_000, 3, 1),
            [b'm', ..] => (60_000, 2, 1),
            [b's', ..] => (1000, 1, 1),
            [] | [b' ', ..] => (1000, 1, 0),
            _ => return None,
        };
        // Units go from large to small, each at most once.
        if rank >= last_rank {
            return None;
        }
        last_rank = rank;
        i += len;
        total_ms = total_ms.checked_add(n.checked_mul(ms)?)?;
        any = true;
    }
    if !any {
        return None;
    }
    Some(Duration::from_millis(u64::try_from(total_ms).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size("1m"), Some(Bytes(1 << 20)));
        assert_eq!(size("8k"), Some(Bytes(8192)));
        assert_eq!(size("20M"), Some(Bytes(20 << 20)));
        assert_eq!(size("1024"), Some(Bytes(1024)));
        assert_eq!(size("0"), Some(Bytes(0)));
        assert_eq!(size("1.5m"), None);
        assert_eq!(size("m"), None);
        assert_eq!(size("1kb"), None);
    }

    #[test]
    fn times() {
        assert_eq!(time("60s"), Some(Duration::from_secs(60)));
        assert_eq!(time("60"), Some(Duration::from_secs(60)));
        assert_eq!(time("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(time("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(time("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(time("1M"), Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(time("2w"), Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(time("30m 1h"), None);
        assert_eq!(time("5x"), None);
        assert_eq!(time(""), None);
    }
}
