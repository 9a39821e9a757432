//! The real option a misspelled key most likely meant: the dashed spelling
//! first, then the closest name within edit distance 2 (looked up through
//! an index, never by scanning the catalogue per key).

use crate::uwsgi::options::catalogue;

/// Levenshtein distance, bounded use (option names are short).
#[cfg(test)]
pub fn distance(a: &str, b: &str) -> usize {
    within(a, b, usize::MAX - 1).unwrap_or(usize::MAX)
}

/// Levenshtein distance when it is at most `max`: a row whose smallest
/// cell exceeds `max` ends the search early.
pub fn within(a: &str, b: &str, max: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        if cur.iter().min().is_some_and(|&m| m > max) {
            return None;
        }
        prev = cur;
    }
    Some(prev[b.len()]).filter(|&d| d <= max)
}

/// Every string made by deleting at most two characters of `s`.
fn deletions(s: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::from([s.to_string()]);
    let mut frontier = vec![s.to_string()];
    for _ in 0..2 {
        let mut next = Vec::new();
        for w in &frontier {
            let chars: Vec<char> = w.chars().collect();
            for i in 0..chars.len() {
                let v: String = chars[..i].iter().chain(&chars[i + 1..]).collect();
                if out.insert(v.clone()) {
                    next.push(v);
                }
            }
        }
        frontier = next;
    }
    out
}

/// The options of the build by every deletion of up to two characters: two
/// strings within edit distance 2 share such a deletion, so a key is
/// compared only with the names it shares one with (no scan of the
/// catalogue per key), and a key longer than every name + 2 with none.
struct NameIndex {
    by_deletion: std::collections::HashMap<String, Vec<&'static str>>,
    longest: usize,
}

fn name_index() -> &'static NameIndex {
    static INDEX: std::sync::OnceLock<NameIndex> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = NameIndex {
            by_deletion: std::collections::HashMap::new(),
            longest: 0,
        };
        for d in catalogue().iter().filter(|d| d.in_build) {
            index.longest = index.longest.max(d.name.chars().count());
            for v in deletions(d.name) {
                index.by_deletion.entry(v).or_default().push(d.name);
            }
        }
        index
    })
}

/// The closest real option: the dashed spelling first, then edit distance ≤ 2.
pub fn suggestion(key: &str) -> Option<(&'static str, bool)> {
    let dashed = key.replace('_', "-").to_ascii_lowercase();
    if let Some(d) = catalogue().get(&dashed).filter(|d| d.in_build) {
        return Some((d.name, true));
    }
    if key.len() < 4 {
        return None;
    }
    let index = name_index();
    if dashed.chars().count() > index.longest + 2 {
        return None;
    }
    let mut candidates: Vec<&'static str> = deletions(&dashed)
        .iter()
        .filter_map(|v| index.by_deletion.get(v))
        .flatten()
        .copied()
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .filter_map(|name| within(&dashed, name, 2).map(|dist| (dist, name)))
        .min()
        .map(|(_, n)| (n, false))
}
