//! Turns the uWSGI option catalogue (`data/uwsgi-options.tsv`) into static
//! tables at build time. Parsing and hashing its ~1,250 rows at start-up was
//! most of the instructions of a small `check` (docs/performance.md).

use std::collections::HashMap;
use std::fmt::Write as _;

include!("src/uwsgi/name_hash.rs");

struct Row<'a> {
    name: &'a str,
    short: Option<char>,
    plugin: &'a str,
    parser: &'a str,
    kind: &'static str,
    flags: u32,
    target: &'a str,
    argument: &'static str,
    in_build: bool,
    help: &'a str,
}

/// `UWSGI_OPT_*` names, as `options::Flags` numbers them.
fn flags(s: &str) -> u32 {
    s.split(',')
        .map(|name| match name {
            "IMMEDIATE" => 1,
            "MASTER" => 2,
            "MEMORY" => 4,
            "CHEAPER" => 8,
            "THREADS" => 16,
            "LOG_MASTER" => 32,
            "REQ_LOG_MASTER" => 64,
            "LAZY" => 128,
            "POST_BUFFERING" => 256,
            "NO_INITIAL" => 512,
            "NO_SERVER" => 1024,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

fn kind(kind: &str, parser: &str) -> &'static str {
    match kind {
        "int" => "Int",
        "u64" => "U64",
        "u16" => "U16",
        "megabytes" => "Megabytes",
        "flag" => "Flag",
        "flag-false" => "FlagFalse",
        "string" => "String",
        "list" => "List",
        _ => match parser {
            // Custom parsers that behave like a plain type.
            "uwsgi_opt_set_rawint" => "Int",
            "uwsgi_opt_set_str_spaced" | "uwsgi_opt_set_uid" | "uwsgi_opt_set_gid" => "String",
            "uwsgi_opt_set_env"
            | "uwsgi_opt_unset_env"
            | "uwsgi_opt_pythonpath"
            | "uwsgi_opt_pyrun" => "List",
            _ => "Custom",
        },
    }
}

fn main() {
    println!("cargo::rerun-if-changed=data/uwsgi-options.tsv");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/uwsgi/name_hash.rs");
    let data = std::fs::read_to_string("data/uwsgi-options.tsv").expect("data/uwsgi-options.tsv");
    let mut all = Vec::new();
    for line in data.lines() {
        if line.starts_with('#') || line.starts_with("name\t") || line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 10 {
            continue;
        }
        all.push(Row {
            name: f[0],
            short: f[1].chars().next(),
            plugin: f[2],
            parser: f[3],
            kind: kind(f[4], f[3]),
            flags: flags(f[5]),
            target: f[6],
            argument: match f[7] {
                "none" => "None",
                "optional" => "Optional",
                _ => "Required",
            },
            in_build: f[8] == "1",
            help: f[9],
        });
    }
    // Where two plugins define the same name, prefer what the pinned build
    // has, then core, then python: that is the option a user of it gets.
    let rank = |o: &Row| (!o.in_build, o.plugin != "core", o.plugin != "python");
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    let mut by_short: HashMap<char, usize> = HashMap::new();
    for (i, o) in all.iter().enumerate() {
        match by_name.get(o.name) {
            Some(&j) if rank(&all[j]) <= rank(o) => {}
            _ => {
                by_name.insert(o.name, i);
            }
        }
        // getopt takes the first option in table order with a short flag.
        if let Some(s) = o.short
            && o.in_build
        {
            by_short.entry(s).or_insert(i);
        }
    }
    // Names writing the same field with the same parser (`processes`/`workers`),
    // each group in table order.
    let mut groups: HashMap<(&str, &str, &str), Vec<&str>> = HashMap::new();
    for o in all.iter().filter(|o| o.target != "NULL" && o.target != "0") {
        groups
            .entry((o.target, o.parser, o.plugin))
            .or_default()
            .push(o.name);
    }
    // A name defined by two plugins may be in two groups: the group of the
    // row the name means wins.
    let mut alias_of: Vec<(&str, Vec<&str>)> = Vec::new();
    for (&n, &i) in &by_name {
        let mine = |o: &Row| {
            groups
                .get(&(o.target, o.parser, o.plugin))
                .filter(|g| g.len() > 1)
                .cloned()
        };
        let group = mine(&all[i]).or_else(|| {
            all.iter()
                .filter(|o| o.name == n)
                .find_map(|o| mine(o).filter(|g| g.contains(&n)))
        });
        if let Some(g) = group {
            alias_of.push((n, g));
        }
    }
    alias_of.sort();

    let mut out = String::new();
    let group: HashMap<&str, &Vec<&str>> = alias_of.iter().map(|(n, g)| (*n, g)).collect();
    out.push_str("/// Every row of the catalogue, in table order.\n");
    let _ = writeln!(out, "static ALL: [OptionDef; {}] = [", all.len());
    for o in &all {
        let _ = writeln!(
            out,
            "    OptionDef {{ name: {:?}, short: {:?}, plugin: {:?}, parser: {:?}, kind: ValueKind::{}, flags: Flags({}), target: {:?}, argument: Argument::{}, in_build: {}, help: {:?}, group: &{:?} }},",
            o.name,
            o.short,
            o.plugin,
            o.parser,
            o.kind,
            o.flags,
            o.target,
            o.argument,
            o.in_build,
            o.help,
            group.get(o.name).map_or(&[][..], |g| &g[..]),
        );
    }
    out.push_str("];\n");
    let mut names: Vec<(&str, usize)> = by_name.into_iter().collect();
    names.sort();
    out.push_str("/// The row each name means, sorted by name.\n");
    let _ = writeln!(out, "static BY_NAME: [(&str, u16); {}] = [", names.len());
    for (n, i) in &names {
        let _ = writeln!(out, "    ({n:?}, {i}),");
    }
    out.push_str("];\n");
    // Open addressing, linear probing: each name at the first free slot
    // from its hash.
    let mut slots = vec![u16::MAX; NAME_SLOTS];
    for (n, i) in &names {
        let mut s = name_hash(n.as_bytes()) as usize % NAME_SLOTS;
        while slots[s] != u16::MAX {
            s = (s + 1) % NAME_SLOTS;
        }
        slots[s] = u16::try_from(*i).expect("fewer than 65535 rows");
    }
    out.push_str("/// The row of each name, by [`name_hash`] (`u16::MAX`: free).\n");
    let _ = writeln!(out, "static NAME_TABLE: [u16; {NAME_SLOTS}] = {slots:?};");
    let mut shorts: Vec<(char, usize)> = by_short.into_iter().collect();
    shorts.sort();
    out.push_str("/// The row each short flag means, sorted by flag.\n");
    let _ = writeln!(out, "static BY_SHORT: [(char, u16); {}] = [", shorts.len());
    for (c, i) in &shorts {
        let _ = writeln!(out, "    ({c:?}, {i}),");
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("options.rs");
    std::fs::write(dest, out).expect("write options.rs");
}
