//! Search quality: the agent-style use cases of
//! `fixtures/search-relevance.tsv` over the fixture catalog, every toolkit
//! allowed. Top-1 must be right for at least 90% of them and top-3 for at
//! least 98% (docs/BENCHMARKS.md records the figures). Each miss is
//! printed with what ranked first, so a regression says where.

use std::collections::BTreeMap;
use std::path::Path;
use toolshed_api::catalog::Catalog;

/// Top-1 and top-3 hit rates over the cases of `file`, and the misses.
fn measure(file: &str) -> (usize, f64, f64, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let catalog = Catalog::load(&root.join("fixtures/toolkits"), &BTreeMap::new()).unwrap();
    let cases = std::fs::read_to_string(root.join(file)).unwrap();
    let (mut total, mut top1, mut top3) = (0, 0, 0);
    let mut misses = Vec::new();
    for line in cases
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (query, expected) = line.split_once('\t').expect("query<TAB>tools");
        let expected: Vec<&str> = expected.split(',').collect();
        for slug in &expected {
            assert!(catalog.tool(slug).is_some(), "{slug} is not in the catalog");
        }
        let hits: Vec<String> = catalog
            .index()
            .search(query, |_| true)
            .into_iter()
            .take(3)
            .map(|h| h.slug)
            .collect();
        total += 1;
        let first = hits.first().is_some_and(|h| expected.contains(&h.as_str()));
        let any = hits.iter().any(|h| expected.contains(&h.as_str()));
        top1 += usize::from(first);
        top3 += usize::from(any);
        if !first {
            misses.push(format!("{query:?}: want {expected:?}, got {hits:?}"));
        }
    }
    let (p1, p3) = (top1 as f64 / total as f64, top3 as f64 / total as f64);
    println!(
        "{file}: {total} cases: top-1 {top1} ({:.1}%), top-3 {top3} ({:.1}%)",
        p1 * 100.0,
        p3 * 100.0
    );
    for miss in &misses {
        println!("miss: {miss}");
    }
    (total, p1, p3, misses)
}

#[test]
fn agent_phrased_use_cases_find_their_tools() {
    let (total, p1, p3, misses) = measure("fixtures/search-relevance.tsv");
    assert!(total >= 80, "only {total} cases");
    assert!(
        p1 >= 0.90 && p3 >= 0.98,
        "top-1 {p1:.3}, top-3 {p3:.3}:\n{}",
        misses.join("\n")
    );
}

/// Cases nobody tuned for. The ranking generalises poorly to them (45%
/// top-1, 55% top-3 when they were written: docs/BENCHMARKS.md), so this
/// only keeps it from getting worse; raising the floor is open work.
#[test]
fn held_out_use_cases_do_not_get_worse() {
    let (total, p1, p3, misses) = measure("fixtures/search-heldout.tsv");
    assert!(total >= 20, "only {total} cases");
    assert!(
        p1 >= 0.45 && p3 >= 0.55,
        "top-1 {p1:.3}, top-3 {p3:.3}:\n{}",
        misses.join("\n")
    );
}

/// Round 3, written later and never tuned on either: the floor is what it
/// scored when written (41.7% top-1, 58.3% top-3: docs/BENCHMARKS.md).
#[test]
fn round_three_held_out_cases_do_not_get_worse() {
    let (total, p1, p3, misses) = measure("fixtures/search-heldout-round3.tsv");
    assert!(total >= 20, "only {total} cases");
    assert!(
        p1 >= 0.41 && p3 >= 0.58,
        "top-1 {p1:.3}, top-3 {p3:.3}:\n{}",
        misses.join("\n")
    );
}

/// GitHub operations beyond the hand-written toolkit's, over the whole
/// imported document (issue 14): written before the first measurement,
/// never tuned on; the floor is what they scored then.
#[test]
fn imported_github_operations_are_found() {
    let (total, p1, p3, misses) = measure("fixtures/search-github-spec.tsv");
    assert!(total >= 25, "only {total} cases");
    assert!(
        p1 >= 0.42 && p3 >= 0.67,
        "top-1 {p1:.3}, top-3 {p3:.3}:\n{}",
        misses.join("\n")
    );
}
