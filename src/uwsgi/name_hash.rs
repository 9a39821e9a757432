/// FNV-1a of an option name: the hash of the catalogue's name table, shared
/// by build.rs (which lays the table out) and the lookup (which probes it).
pub const fn name_hash(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < name.len() {
        h ^= name[i] as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    h
}

/// Slots of the name table (a power of two, about three per name).
pub const NAME_SLOTS: usize = 4096;
