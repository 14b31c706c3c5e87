//! Every citation of the specification names a row of `docs/SPEC.md`, and every row's anchor is
//! unique there.
//!
//! The grammar is the one `docs/SPEC.md` states under "How to cite". In Rust sources only comments
//! (line, doc and block) and string literals are read, so identifiers such as a `T0` constant or
//! `Readings::SPEC` never count; in Markdown every line is read; in Python, comments and strings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The specification, relative to the crate root.
const SPEC: &str = "docs/SPEC.md";

/// Folders whose Rust sources must cite only existing rows.
const RUST_ROOTS: &[&str] =
    &["src", "emulator/src", "tests", "emulator/tests", "examples", "bindings/python/src"];

/// Other files that cite the specification.
const OTHER_FILES: &[&str] = &[
    "README.md",
    "emulator/README.md",
    "tests/model/README.md",
    "emulator/e2e/test_e2e.py",
    "emulator/python/tests/test_sample_boto3.py",
    "bindings/python/README.md",
    "bindings/python/python/iot_jobs_core/_types.py",
    "bindings/python/python/iot_jobs_core/errors.py",
    "bindings/python/python/iot_jobs_core/messages.py",
    "bindings/python/python/iot_jobs_core/records.py",
    "bindings/python/python/iot_jobs_core/topics.py",
    "bindings/python/tests/test_config.py",
    "bindings/python/tests/test_conformance_time.py",
    "bindings/python/tests/test_messages.py",
    "bindings/python/tests/test_registry.py",
    "examples/python/mini_backend.py",
    "examples/python/test_mini_backend.py",
];

/// Prefixes of the source tags of `docs/SPEC.md` §0 (besides the whole tag `SDKV2`).
const SOURCE_PREFIXES: &[&str] = &["SEED", "DG", "BC", "API", "GG", "GH", "EMB"];

/// Text a reader sees as prose (a comment, a run of adjacent line comments, a string literal or a
/// document), each character with the 1-based line it comes from.
#[derive(Default)]
struct Prose {
    chars: Vec<char>,
    lines: Vec<usize>,
}

impl Prose {
    fn push(&mut self, c: char, line: usize) {
        self.chars.push(c);
        self.lines.push(line);
    }

    /// Adds one character of a multi-line piece: a newline is a space that ends `line`.
    fn push_source(&mut self, c: char, line: &mut usize) {
        if c == '\n' {
            self.push(' ', *line);
            *line += 1;
        } else {
            self.push(c, *line);
        }
    }
}

/// One citation: where it is, what it says, and the anchor it names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Citation {
    line: usize,
    text: String,
    anchor: String,
}

/// The prose of a Rust source: comments and string literals. Line comments on consecutive lines
/// form one piece, so a citation list may wrap.
fn rust_prose(src: &str) -> Vec<Prose> {
    let cs: Vec<char> = src.chars().collect();
    let mut out: Vec<Prose> = Vec::new();
    let mut line: usize = 1;
    let mut i = 0;
    // The line of the last line comment, to join the next one to it.
    let mut last_line_comment: Option<usize> = None;
    let mut code_since_comment = false;
    let at = |k: usize| cs.get(k).copied().unwrap_or('\0');
    while i < cs.len() {
        let c = cs[i];
        if c == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c == '/' && at(i + 1) == '/' {
            let joined = last_line_comment == Some(line.saturating_sub(1)) && !code_since_comment;
            if !joined {
                out.push(Prose::default());
            }
            let p = out.last_mut().unwrap();
            p.push(' ', line);
            // The markers `//`, `///`, `//!` are not prose.
            while at(i) == '/' || at(i) == '!' {
                i += 1;
            }
            while i < cs.len() && cs[i] != '\n' {
                p.push(cs[i], line);
                i += 1;
            }
            last_line_comment = Some(line);
            code_since_comment = false;
            continue;
        }
        if c == '/' && at(i + 1) == '*' {
            let mut p = Prose::default();
            let mut depth = 0usize;
            while i < cs.len() {
                if cs[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                    continue;
                }
                if cs[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                    continue;
                }
                p.push_source(cs[i], &mut line);
                i += 1;
            }
            out.push(p);
            code_since_comment = true;
            continue;
        }
        if !c.is_whitespace() {
            code_since_comment = true;
        }
        let ident_before = i > 0 && (cs[i - 1].is_alphanumeric() || cs[i - 1] == '_');
        // Raw strings: r"..", r#".."#, br#".."#.
        if c == 'r' && !ident_before || (c == 'b' && at(i + 1) == 'r' && !ident_before) {
            let mut k = if c == 'b' { i + 2 } else { i + 1 };
            let mut hashes = 0;
            while at(k) == '#' {
                hashes += 1;
                k += 1;
            }
            if at(k) == '"' {
                let mut p = Prose::default();
                k += 1;
                loop {
                    if k >= cs.len() {
                        break;
                    }
                    if cs[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#') {
                        k += 1 + hashes;
                        break;
                    }
                    p.push_source(cs[k], &mut line);
                    k += 1;
                }
                out.push(p);
                i = k;
                continue;
            }
        }
        if c == '"' {
            let mut p = Prose::default();
            i += 1;
            while i < cs.len() && cs[i] != '"' {
                if cs[i] == '\\' {
                    // An escape: a line continuation or one escaped character; neither is prose.
                    i += 1;
                    if at(i) == '\n' {
                        line += 1;
                        p.push(' ', line);
                    }
                    i += 1;
                    continue;
                }
                p.push_source(cs[i], &mut line);
                i += 1;
            }
            out.push(p);
            i += 1;
            continue;
        }
        if c == '\'' {
            // A character literal ('x', '\n', '\u{..}', '"'), or a lifetime or label ('a).
            if at(i + 1) == '\\' {
                i += 2;
                while i < cs.len() && cs[i] != '\'' && cs[i] != '\n' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            if at(i + 2) == '\'' {
                i += 3;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The prose of a Python source: `#` comments and string literals (one piece each).
fn python_prose(src: &str) -> Vec<Prose> {
    let cs: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut line: usize = 1;
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '#' {
            let mut p = Prose::default();
            while i < cs.len() && cs[i] != '\n' {
                p.push(cs[i], line);
                i += 1;
            }
            out.push(p);
        } else if c == '"' || c == '\'' {
            let triple = cs.get(i + 1) == Some(&c) && cs.get(i + 2) == Some(&c);
            let quote_len = if triple { 3 } else { 1 };
            let mut p = Prose::default();
            i += quote_len;
            while i < cs.len() {
                if cs[i] == '\\' {
                    i += 2;
                    continue;
                }
                if cs[i] == c && (!triple || (cs.get(i + 1) == Some(&c) && cs.get(i + 2) == Some(&c))) {
                    i += quote_len;
                    break;
                }
                p.push_source(cs[i], &mut line);
                i += 1;
            }
            out.push(p);
        } else {
            i += 1;
        }
    }
    out
}

/// A Markdown document is prose throughout.
fn markdown_prose(src: &str) -> Vec<Prose> {
    let mut p = Prose::default();
    for (n, l) in src.lines().enumerate() {
        for c in l.chars() {
            p.push(c, n + 1);
        }
        p.push(' ', n + 1);
    }
    vec![p]
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn digits(cs: &[char], mut k: usize) -> usize {
    while cs.get(k).is_some_and(char::is_ascii_digit) {
        k += 1;
    }
    k
}

/// `R<n>` or `T<n>` (with the one suffixed row `T5b`), starting at `k`: the anchor and where it
/// ends. `n` has no leading zero.
fn row_tag(cs: &[char], k: usize) -> Option<(String, usize)> {
    let head = *cs.get(k)?;
    if head != 'R' && head != 'T' {
        return None;
    }
    let end = digits(cs, k + 1);
    if end == k + 1 || cs[k + 1] == '0' {
        return None;
    }
    let end = if head == 'T' && cs.get(end) == Some(&'b') { end + 1 } else { end };
    if cs.get(end).is_some_and(|&c| is_word(c)) {
        return None;
    }
    Some((cs[k..end].iter().collect(), end))
}

/// `AMBIG-<n>` or a source tag of §0 (`SEED-CLI`, `DG-LIFE`, `GH-4656`, `SDKV2`, ...), at `k`.
fn named_tag(cs: &[char], k: usize) -> Option<(String, usize)> {
    let mut end = k;
    while cs.get(end).is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        end += 1;
    }
    let prefix: String = cs[k..end].iter().collect();
    if prefix == "SDKV2" && !cs.get(end).is_some_and(|&c| is_word(c) || c == '-') {
        return Some((prefix, end));
    }
    if cs.get(end) != Some(&'-') {
        return None;
    }
    let start_rest = end + 1;
    let mut rest = start_rest;
    if prefix == "AMBIG" {
        rest = digits(cs, start_rest);
    } else if SOURCE_PREFIXES.contains(&prefix.as_str()) {
        while cs.get(rest).is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            rest += 1;
        }
    } else {
        return None;
    }
    if rest == start_rest || cs.get(rest).is_some_and(|&c| is_word(c)) {
        return None;
    }
    Some((cs[k..rest].iter().collect(), rest))
}

/// A section number at `k` (after an optional `§`): `R`, or `<n>(.<n>)*`; a number without `§`
/// must have a dot (`4.2`), unless it ends a range (`§2–4`). Returns the anchor (`sR`, `s4.2`),
/// the number, and the end.
fn section(cs: &[char], k: usize, range_end: bool) -> Option<(String, String, usize)> {
    let (k, with_mark) = if cs.get(k) == Some(&'§') { (k + 1, true) } else { (k, range_end) };
    if with_mark && cs.get(k) == Some(&'R') && !cs.get(k + 1).is_some_and(|&c| is_word(c)) {
        return Some(("sR".into(), "R".into(), k + 1));
    }
    let mut end = digits(cs, k);
    if end == k {
        return None;
    }
    let mut dotted = false;
    while cs.get(end) == Some(&'.') && cs.get(end + 1).is_some_and(char::is_ascii_digit) {
        dotted = true;
        end = digits(cs, end + 1);
    }
    if !with_mark && !dotted || cs.get(end).is_some_and(|&c| is_word(c)) {
        return None;
    }
    let num: String = cs[k..end].iter().collect();
    Some((format!("s{num}"), num, end))
}

/// One item of a `SPEC` list at `k`: its anchors (a range `§2–4` names both ends and those
/// between) and where it ends.
fn item(cs: &[char], k: usize) -> Option<(Vec<String>, usize)> {
    if let Some((anchor, num, end)) = section(cs, k, false) {
        // A range: `§2–4`, `§2–§8`.
        if cs.get(end) == Some(&'–')
            && let Some((last, last_num, end2)) = section(cs, end + 1, true)
        {
            let mut anchors = vec![anchor];
            if let (Ok(a), Ok(b)) = (num.parse::<u32>(), last_num.parse::<u32>()) {
                anchors.extend((a + 1..b).map(|n| format!("s{n}")));
            }
            anchors.push(last);
            return Some((anchors, end2));
        }
        return Some((vec![anchor], end));
    }
    row_tag(cs, k).or_else(|| named_tag(cs, k)).map(|(a, end)| (vec![a], end))
}

/// Every citation in `p`, per the grammar of `docs/SPEC.md`.
fn citations(p: &Prose) -> Vec<Citation> {
    let cs = &p.chars;
    let mut out = BTreeSet::new();
    let mut cite = |from: usize, to: usize, anchor: String| {
        out.insert(Citation { line: p.lines[from], text: cs[from..to].iter().collect(), anchor });
    };
    for k in 0..cs.len() {
        let boundary = k == 0 || !(is_word(cs[k - 1]) || matches!(cs[k - 1], '-' | '.' | '§' | '$'));
        if !boundary {
            continue;
        }
        // Tags that are citations wherever they stand.
        if let Some((anchor, end)) = row_tag(cs, k).or_else(|| named_tag(cs, k)) {
            cite(k, end, anchor);
        }
        // A `SPEC` list: `SPEC ` then items separated by `,` or `;`, each item optionally followed
        // by words; the list ends at the first separator not followed by an item, or at `)`, `]`,
        // `:`, `"`, a backtick or a sentence end.
        let is_spec = cs.get(k..k + 5).is_some_and(|w| w == ['S', 'P', 'E', 'C', ' ']);
        if !is_spec {
            continue;
        }
        let mut j = k + 5;
        while let Some((anchors, end)) = item(cs, j) {
            for a in anchors {
                cite(j, end, a);
            }
            j = end;
            // Words after the item, up to a separator or the end of the list.
            let mut next = None;
            while let Some(&c) = cs.get(j) {
                let sentence_end = c == '.' && !cs.get(j + 1).is_some_and(|&d| is_word(d));
                if matches!(c, ')' | ']' | ':' | '"' | '`') || sentence_end {
                    break;
                }
                if c == ',' || c == ';' {
                    let mut s = j + 1;
                    while cs.get(s) == Some(&' ') {
                        s += 1;
                    }
                    next = Some(s);
                    break;
                }
                j += 1;
            }
            match next {
                Some(s) => j = s,
                None => break,
            }
        }
    }
    out.into_iter().collect()
}

/// Every `<a id="..."></a>` of the specification, with its line.
fn anchors(spec: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (n, l) in spec.lines().enumerate() {
        let mut rest = l;
        while let Some(at) = rest.find("<a id=\"") {
            let tail = &rest[at + 7..];
            let Some(close) = tail.find('"') else { break };
            out.push((tail[..close].to_string(), n + 1));
            rest = &tail[close..];
        }
    }
    out
}

/// `file:line: text -> #anchor` for each citation of `prose` whose anchor is not in `known`.
fn dangling(file: &str, prose: &[Prose], known: &BTreeSet<String>) -> Vec<String> {
    prose
        .iter()
        .flat_map(citations)
        .filter(|c| !known.contains(&c.anchor))
        .map(|c| format!("{file}:{}: `{}` names #{}, which {SPEC} does not define", c.line, c.text, c.anchor))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn known_anchors() -> BTreeSet<String> {
    let spec = fs::read_to_string(root().join(SPEC)).unwrap();
    anchors(&spec).into_iter().map(|(a, _)| a).collect()
}

#[test]
fn every_citation_names_a_row_of_the_spec() {
    let known = known_anchors();
    let mut files = Vec::new();
    for dir in RUST_ROOTS {
        rust_files(&root().join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 20, "the sources were not found under {}", root().display());
    let mut bad = Vec::new();
    let mut count = 0;
    for path in &files {
        if path.ends_with("tests/spec_citations.rs") {
            // This file's examples of the grammar cite rows that do not exist, on purpose.
            continue;
        }
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        let prose = rust_prose(&fs::read_to_string(path).unwrap());
        count += prose.iter().map(|p| citations(p).len()).sum::<usize>();
        bad.extend(dangling(&rel, &prose, &known));
    }
    for rel in OTHER_FILES {
        // A file that moved away is not a citation to check; the Rust roots are the ones required.
        let Ok(text) = fs::read_to_string(root().join(rel)) else { continue };
        let prose = if rel.ends_with(".py") { python_prose(&text) } else { markdown_prose(&text) };
        count += prose.iter().map(|p| citations(p).len()).sum::<usize>();
        bad.extend(dangling(rel, &prose, &known));
    }
    // The sources do cite: a scanner that finds nothing checks nothing.
    assert!(count > 500, "only {count} citations found");
    assert!(bad.is_empty(), "{} citations name no row of {SPEC}:\n{}", bad.len(), bad.join("\n"));
}

#[test]
fn every_anchor_of_the_spec_is_unique() {
    let spec = fs::read_to_string(root().join(SPEC)).unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut twice = Vec::new();
    for (id, line) in anchors(&spec) {
        if let Some(first) = seen.insert(id.clone(), line) {
            twice.push(format!("{SPEC}:{line}: #{id} already defined at line {first}"));
        }
    }
    assert!(seen.len() > 100, "only {} anchors in {SPEC}", seen.len());
    assert!(twice.is_empty(), "{}", twice.join("\n"));
}

#[test]
fn the_rows_the_rules_build_on_exist() {
    let known = known_anchors();
    let mut wanted: Vec<String> = Vec::new();
    wanted.extend((1..=14).map(|n| format!("T{n}")));
    wanted.push("T5b".into());
    wanted.extend((1..=19).map(|n| format!("R{n}")));
    wanted.extend((1..=25).map(|n| format!("AMBIG-{n}")));
    for s in ["sR", "s0", "s1", "s2", "s3", "s3.1", "s3.2", "s4", "s4.1", "s4.2", "s4.3", "s4.4", "s5", "s6"]
    {
        wanted.push(s.into());
    }
    for s in ["s7", "s7.1", "s7.2", "s7.3", "s7.4", "s8", "s9", "s10", "SEED-DJE", "SEED-CLI"] {
        wanted.push(s.into());
    }
    let missing: Vec<_> = wanted.iter().filter(|a| !known.contains(*a)).collect();
    assert!(missing.is_empty(), "{SPEC} lacks {missing:?}");
}

/// The scanner itself: what counts as a citation, what does not, and what is reported.
mod scanner {
    use super::*;

    fn known(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| (*s).to_string()).collect()
    }

    fn cited(src: &str) -> Vec<(usize, String)> {
        rust_prose(src).iter().flat_map(citations).map(|c| (c.line, c.anchor)).collect()
    }

    #[test]
    fn a_dangling_citation_is_reported_with_its_line() {
        let src = "fn f() {}\n// SPEC §4.2 DeleteJob, T99: no such row.\n/// R14: a valid one.\n";
        let bad = dangling("x.rs", &rust_prose(src), &known(&["s4.2", "R14"]));
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(bad[0].starts_with("x.rs:2: `T99` names #T99"), "{}", bad[0]);
    }

    #[test]
    fn valid_citations_are_not_reported() {
        let src =
            "// SPEC 4.2 DeleteJob, §6 Abort; R14 (AMBIG-16, SEED-CLI).\nconst A: &str = \"SPEC T5b\";\n";
        let ids = known(&["s4.2", "s6", "R14", "AMBIG-16", "SEED-CLI", "T5b"]);
        assert_eq!(dangling("x.rs", &rust_prose(src), &ids), Vec::<String>::new());
        assert_eq!(cited(src).len(), 6);
    }

    #[test]
    fn the_grammar() {
        // Lists wrap over adjacent line comments; `SPEC` lists take sections, bare or with `§`.
        assert_eq!(cited("/// a (SPEC T12,\n/// §6 Retries)\n"), [(1, "T12".into()), (2, "s6".into())]);
        assert_eq!(
            cited("//! SPEC §2–4, §R.\n"),
            [(1, "s2".into()), (1, "s3".into()), (1, "s4".into()), (1, "sR".into())]
        );
        assert_eq!(cited("// SPEC R11, 4.4\n"), [(1, "s4.4".into()), (1, "R11".into())]);
        assert_eq!(cited("// SPEC T1, R7). Room §5, 4.2\n"), [(1, "R7".into()), (1, "T1".into())]);
        // A source tag after `BC-IOT:` keeps only the tag; GitHub issues are sources too.
        assert_eq!(cited("// BC-IOT:TimeoutConfig GH-4656\n"), [(1, "BC-IOT".into()), (1, "GH-4656".into())]);
        // Not citations: identifiers, code, words that only look alike.
        assert_eq!(cited("const T0: u8 = 0; let r = Readings::SPEC, &THINGS; R2D2;\n"), []);
        assert_eq!(cited("// T0, R, T1x, SPEC: x, SPEC-free, 4.2, §7, BENCHMARKS-5, AMBIG-x, X-T1\n"), []);
        assert_eq!(cited("let c = '\"'; let s = \"R3\"; // T4\n"), [(1, "R3".into()), (1, "T4".into())]);
        assert_eq!(
            cited("let s = r#\"SPEC §8 \"quoted\"\"#; /* SEED-DJE */\n"),
            [(1, "s8".into()), (1, "SEED-DJE".into())]
        );
        // A comment after code is its own piece: a list does not continue into it.
        assert_eq!(cited("// SPEC T1,\nlet x = 1;\n// §9\n"), [(1, "T1".into())]);
    }

    #[test]
    fn anchors_are_read_from_html_ids() {
        let spec = "| <a id=\"T1\"></a>T1 | x |\n<a id=\"s4.2\"></a><a id=\"AMBIG-1\"></a>\n";
        assert_eq!(anchors(spec), [("T1".into(), 1), ("s4.2".into(), 2), ("AMBIG-1".into(), 2)]);
    }

    #[test]
    fn python_and_markdown_prose() {
        let py = "x = T0  # R13: version\ns = \"\"\"SPEC §8\"\"\"\n";
        let got: Vec<_> = python_prose(py).iter().flat_map(citations).map(|c| c.anchor).collect();
        assert_eq!(got, ["R13", "s8"]);
        let md = "Rows `R1`–`R19`, SPEC 7.2,\n7.4.\n";
        let got: Vec<_> = markdown_prose(md).iter().flat_map(citations).map(|c| (c.line, c.anchor)).collect();
        assert_eq!(got, [(1, "s7.2".into()), (1, "R1".into()), (1, "R19".into()), (2, "s7.4".into())]);
    }
}
