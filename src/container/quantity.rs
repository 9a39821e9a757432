//! Memory quantities, one parser per ecosystem, each with its exact grammar
//! (containers-and-nginx.md §3.1–§3.3). They differ in ways that matter:
//! Compose `1g` is GiB and a bare number is **bytes**; Kubernetes `1G` is
//! 10^9, `1Gi` is GiB, suffixes are case-sensitive and `400m` is 0.4 bytes;
//! ECS container memory is MiB and task memory is MiB or `"1GB"` (binary).

use crate::units::{Bytes, GIB, MIB};

/// A parse failure, with what the grammar expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError(pub String);

/// Docker Compose byte values (compose-go `UnitBytes` → go-units
/// `RAMInBytes`): `(?i)^(\d+(\.\d+)?) ?([kmgtp])?i?b?$`, binary multipliers.
/// An integer in YAML is bytes; so is a string without unit.
pub fn compose_bytes(s: &str) -> Result<Bytes, QuantityError> {
    let err = || {
        QuantityError(format!(
            "`{s}` is not a Compose byte value (a number with an optional unit b, k, m, g: `512m`, `1g`)"
        ))
    };
    let t = s.trim();
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, rest) = t.split_at(num_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.matches('.').count() > 1
    {
        return Err(err());
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest).to_ascii_lowercase();
    let (unit, tail) = match rest.chars().next() {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => (Some(c), &rest[1..]),
        _ => (None, rest.as_str()),
    };
    let tail = tail.strip_prefix('i').unwrap_or(tail);
    let tail = tail.strip_prefix('b').unwrap_or(tail);
    if !tail.is_empty() {
        return Err(err());
    }
    let mult: f64 = match unit {
        None => 1.0,
        Some('k') => 1024.0,
        Some('m') => MIB as f64,
        Some('g') => GIB as f64,
        Some('t') => (GIB as f64) * 1024.0,
        _ => (GIB as f64) * 1024.0 * 1024.0,
    };
    let n: f64 = num.parse().map_err(|_| err())?;
    let v = n * mult;
    if !v.is_finite() || v >= u64::MAX as f64 {
        return Err(err());
    }
    Ok(Bytes(v as u64))
}

/// A Kubernetes quantity, exactly: in thousandths of the unit (`400m` = 400,
/// `1Gi` = 1073741824000), rounded up past three decimals as Kubernetes does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeQuantity {
    pub milli: i128,
}

impl KubeQuantity {
    /// Whole bytes (memory), rounding a fraction up.
    pub fn bytes(self) -> Option<Bytes> {
        if self.milli < 0 {
            return None;
        }
        u64::try_from((self.milli + 999) / 1000).ok().map(Bytes)
    }

    /// Is there a fraction of a byte (`400m` memory: surely a mistake)?
    pub fn has_fraction(self) -> bool {
        self.milli % 1000 != 0
    }
}

/// The Kubernetes quantity grammar (API reference, "Quantity"):
/// `<signedNumber><suffix>`, suffix one of `Ki Mi Gi Ti Pi Ei`, `m "" k M G T P E`,
/// or `e`/`E` with a signed exponent. Case-sensitive: `K` is invalid.
pub fn kube_quantity(s: &str) -> Result<KubeQuantity, QuantityError> {
    let err = |why: &str| QuantityError(format!("`{s}` is not a Kubernetes quantity: {why}"));
    let t = s.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let num_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(err("expected a number"));
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    // The number as an integer of 10^-scale.
    let digits = format!("{int_part}{frac_part}");
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits
            .parse::<i128>()
            .map_err(|_| err("number too large"))?
    };
    let mut scale = frac_part.len() as i32;
    // value = mantissa * 10^-scale * base^exp
    let (base10_exp, binary): (i32, u32) = match suffix {
        "" => (0, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        s if (s.starts_with('e') || s.starts_with('E')) && s.len() > 1 => {
            let e: i32 = s[1..].parse().map_err(|_| err("bad exponent"))?;
            if !(-30..=30).contains(&e) {
                return Err(err("exponent out of range"));
            }
            (e, 0)
        }
        _ => {
            return Err(err(
                "unknown suffix (case matters: use Ki, Mi, Gi or k, M, G)",
            ));
        }
    };
    // milli = value * 1000
    scale -= base10_exp + 3;
    let mut v = mantissa
        .checked_shl(binary)
        .ok_or_else(|| err("too large"))?;
    if binary > 0 && v >> binary != mantissa {
        return Err(err("too large"));
    }
    if scale > 0 {
        let p = 10i128
            .checked_pow(scale as u32)
            .ok_or_else(|| err("too precise"))?;
        v = (v + p - 1) / p; // round up, as Kubernetes does
    } else if scale < 0 {
        let p = 10i128
            .checked_pow((-scale) as u32)
            .ok_or_else(|| err("too large"))?;
        v = v.checked_mul(p).ok_or_else(|| err("too large"))?;
    }
    if v > (i64::MAX as i128) * 1000 {
        return Err(err("more than 2^63-1"));
    }
    Ok(KubeQuantity {
        milli: if neg { -v } else { v },
    })
}

/// ECS container `memory` / `memoryReservation`: an integer of MiB.
pub fn ecs_container_mib(n: i64) -> Result<Bytes, QuantityError> {
    if n < 0 {
        return Err(QuantityError(format!("`{n}` MiB is negative")));
    }
    Ok(Bytes::from_mib(n as u64))
}

/// ECS task `memory`: MiB as an integer string (`"1024"`), or GB as
/// `"1GB"` / `"1 GB"`, where GB is binary (1GB → 1024 MiB).
pub fn ecs_task_memory(s: &str) -> Result<Bytes, QuantityError> {
    let t = s.trim();
    let err = || {
        QuantityError(format!(
            "`{s}` is not an ECS task memory (MiB as `\"1024\"`, or `\"1GB\"`)"
        ))
    };
    if let Some(gb) = t
        .strip_suffix("GB")
        .or_else(|| t.strip_suffix("gb"))
        .or_else(|| t.strip_suffix("Gb"))
    {
        let n: f64 = gb.trim().parse().map_err(|_| err())?;
        if !(n >= 0.0 && n.is_finite()) {
            return Err(err());
        }
        return Ok(Bytes((n * GIB as f64) as u64));
    }
    let n: u64 = t.parse().map_err(|_| err())?;
    Ok(Bytes::from_mib(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_grammar() {
        assert_eq!(compose_bytes("512m"), Ok(Bytes(512 * MIB)));
        assert_eq!(compose_bytes("1g"), Ok(Bytes(GIB)));
        assert_eq!(compose_bytes("1GiB"), Ok(Bytes(GIB)));
        assert_eq!(compose_bytes("1gb"), Ok(Bytes(GIB)));
        assert_eq!(compose_bytes("1.5g"), Ok(Bytes(GIB * 3 / 2)));
        assert_eq!(compose_bytes("300 m"), Ok(Bytes(300 * MIB)));
        assert_eq!(compose_bytes("2048k"), Ok(Bytes(2 * MIB)));
        assert_eq!(compose_bytes("512"), Ok(Bytes(512)));
        assert_eq!(compose_bytes("2b"), Ok(Bytes(2)));
        for bad in ["", "m", "1x", "1mm", "1.2.3m", "-1m", "1 g b"] {
            assert!(compose_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kubernetes_grammar() {
        let b = |s| kube_quantity(s).unwrap().bytes().unwrap();
        assert_eq!(b("128974848"), Bytes(128974848));
        assert_eq!(b("129e6"), Bytes(129_000_000));
        assert_eq!(b("129M"), Bytes(129_000_000));
        assert_eq!(b("123Mi"), Bytes(123 * MIB));
        assert_eq!(b("1Gi"), Bytes(GIB));
        assert_eq!(b("1G"), Bytes(1_000_000_000));
        assert_eq!(b("128974848000m"), Bytes(128974848));
        assert_eq!(b("0.5Gi"), Bytes(GIB / 2));
        let m = kube_quantity("400m").unwrap();
        assert_eq!(m.milli, 400);
        assert!(m.has_fraction());
        assert_eq!(m.bytes(), Some(Bytes(1)));
        assert_eq!(
            kube_quantity("1E").unwrap().milli,
            1_000_000_000_000_000_000_000
        );
        assert_eq!(kube_quantity("1E3").unwrap().milli, 1_000_000);
        assert_eq!(kube_quantity("0.1m").unwrap().milli, 1); // rounded up
        for bad in ["1K", "1gi", "1 Gi", "", "Gi", "1.2.3", "1e", "12Mib"] {
            assert!(kube_quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ecs_grammar() {
        assert_eq!(ecs_task_memory("1024"), Ok(Bytes(GIB)));
        assert_eq!(ecs_task_memory("1GB"), Ok(Bytes(GIB)));
        assert_eq!(ecs_task_memory("2 GB"), Ok(Bytes(2 * GIB)));
        assert_eq!(ecs_task_memory("0.5GB"), Ok(Bytes(GIB / 2)));
        assert!(ecs_task_memory("1GiB").is_err());
        assert!(ecs_task_memory("lots").is_err());
        assert_eq!(ecs_container_mib(512), Ok(Bytes(512 * MIB)));
        assert!(ecs_container_mib(-1).is_err());
    }
}
