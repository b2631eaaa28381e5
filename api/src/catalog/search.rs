//! Tool search: BM25 (the `bm25` crate, English stemming and stop words)
//! over each tool's slug, name, description, tags and toolkit. Fields are
//! weighted by repetition (slug and name count three times, toolkit twice).
//! The query is read first ([`super::intent`]): synonyms are added, and each
//! tool's score is scaled by how well the verb of its slug fits the action
//! the query asks for, and raised for the toolkit the query names (by slug,
//! name or category). Results are deterministic: ties break by slug.

use super::Catalog;
use super::intent::{Action, Intent, stem, words};
use bm25::{Document, Language, SearchEngine, SearchEngineBuilder};
use std::collections::HashMap;

fn engine(documents: &[(String, String)]) -> SearchEngine<String> {
    let documents = documents
        .iter()
        .map(|(slug, text)| Document::new(slug.clone(), text.clone()));
    SearchEngineBuilder::<String>::with_documents(Language::English, documents).build()
}

/// The index over every tool of a catalog.
#[derive(Default)]
pub struct Index {
    engine: Option<SearchEngine<String>>,
    /// Each tool's indexed text, to rebuild with extra tools.
    documents: Vec<(String, String)>,
    /// Each tool's toolkit, the action its slug names, and its weight
    /// (1, or MINOR).
    tools: HashMap<String, (String, Option<Action>, f32)>,
    /// Each toolkit's ways of being named: (slug, name, category words).
    toolkits: Vec<(String, Vec<String>, Vec<String>)>,
}

/// A toolkit named by slug or full name.
const NAMED: f32 = 1.6;
/// A toolkit named by one of its categories or a word of its name.
const HINTED: f32 = 1.25;
/// The most a tool gains when the query covers every word of its slug.
const NAME_MATCH: f32 = 0.3;
/// The weight of a tool imported in bulk and not marked important (GitHub
/// alone has a thousand operations; the main ones should win ties).
const MINOR: f32 = 0.5;

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").finish_non_exhaustive()
    }
}

/// One hit: a tool slug and its score.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The tool.
    pub slug: String,
    /// Its BM25 score (higher is better).
    pub score: f32,
}

/// A tool from outside the catalog ranked with it: a request's custom
/// tool.
#[derive(Clone, Debug)]
pub struct Extra {
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The toolkit it is grouped under.
    pub toolkit: String,
    /// That toolkit's display name.
    pub toolkit_name: String,
}

/// The text a tool is indexed by: slug and name count three times,
/// toolkit twice.
fn document_text(
    slug: &str,
    name: &str,
    toolkit: &str,
    toolkit_name: &str,
    tags: &[String],
    description: &str,
) -> String {
    let slug = slug.replace('_', " ").to_lowercase();
    // The description's lead only: imported descriptions run to a thousand
    // characters of caveats, which would drown the words that say what
    // the tool does (and skew BM25's length normalisation).
    let description = lead(description, DESCRIPTION_CHARS);
    format!(
        "{slug} {slug} {slug} {name} {name} {name} {toolkit} {toolkit} {toolkit_name} {tags} {description}",
        tags = tags.join(" "),
    )
}

/// How much of a description is indexed.
const DESCRIPTION_CHARS: usize = 300;

/// The first paragraph of `text`, cut at a word within `max` bytes.
fn lead(text: &str, max: usize) -> &str {
    let paragraph = text.trim().split("\n\n").next().unwrap_or_default();
    if paragraph.len() <= max {
        return paragraph;
    }
    let mut end = max;
    while !paragraph.is_char_boundary(end) {
        end -= 1;
    }
    match paragraph[..end].rfind(' ') {
        Some(space) => &paragraph[..space],
        None => &paragraph[..end],
    }
}

impl Index {
    /// Indexes every tool of the catalog.
    pub fn build(catalog: &Catalog) -> Index {
        let documents: Vec<(String, String)> = catalog
            .tools()
            .map(|t| {
                let toolkit_name = catalog
                    .toolkit(&t.toolkit)
                    .map(|k| k.name.as_str())
                    .unwrap_or_default();
                let text = document_text(
                    &t.tool.slug,
                    &t.tool.name,
                    &t.toolkit,
                    toolkit_name,
                    &t.tool.tags,
                    &t.tool.description,
                );
                (t.tool.slug.clone(), text)
            })
            .collect();
        if documents.is_empty() {
            return Index::default();
        }
        let tools = catalog
            .tools()
            .map(|t| {
                let weight = if t.tool.is_important() { 1.0 } else { MINOR };
                (
                    t.tool.slug.clone(),
                    (t.toolkit.clone(), Action::of_slug(&t.tool.slug), weight),
                )
            })
            .collect();
        let toolkits = catalog
            .toolkits()
            .map(|k| {
                let categories = k.categories.iter().flat_map(|c| words(c)).collect();
                (k.slug.clone(), words(&k.name), categories)
            })
            .collect();
        Index {
            engine: Some(engine(&documents)),
            documents,
            tools,
            toolkits,
        }
    }

    /// This index with `extras` ranked alongside the catalog's tools
    /// (rebuilt, so their words count as the catalog's do).
    pub fn extended(&self, extras: &[Extra]) -> Index {
        let mut documents = self.documents.clone();
        let mut tools = self.tools.clone();
        let mut toolkits = self.toolkits.clone();
        for extra in extras {
            documents.push((
                extra.slug.clone(),
                document_text(
                    &extra.slug,
                    &extra.name,
                    &extra.toolkit,
                    &extra.toolkit_name,
                    &[],
                    &extra.description,
                ),
            ));
            tools.insert(
                extra.slug.clone(),
                (extra.toolkit.clone(), Action::of_slug(&extra.slug), 1.0),
            );
            if !toolkits.iter().any(|(slug, _, _)| slug == &extra.toolkit) {
                toolkits.push((
                    extra.toolkit.clone(),
                    words(&extra.toolkit_name),
                    Vec::new(),
                ));
            }
        }
        Index {
            engine: (!documents.is_empty()).then(|| engine(&documents)),
            documents,
            tools,
            toolkits,
        }
    }

    /// How much `query_words` point at each toolkit.
    fn toolkit_factors(&self, query_words: &[String]) -> HashMap<&str, f32> {
        let joined = format!(" {} ", query_words.join(" "));
        self.toolkits
            .iter()
            .filter_map(|(slug, name, categories)| {
                let full = format!(" {} ", name.join(" "));
                let factor = if query_words.iter().any(|w| w == slug) || joined.contains(&full) {
                    NAMED
                } else if query_words.iter().any(|w| {
                    let w = stem(w);
                    w.len() > 3
                        && (name.iter().any(|n| stem(n) == w)
                            || categories.iter().any(|c| stem(c) == w))
                }) {
                    HINTED
                } else {
                    return None;
                };
                Some((slug.as_str(), factor))
            })
            .collect()
    }

    /// All matching tools, best first, among those `keep` accepts.
    pub fn search(&self, query: &str, mut keep: impl FnMut(&str) -> bool) -> Vec<Hit> {
        let Some(engine) = &self.engine else {
            return Vec::new();
        };
        let intent = Intent::of(query);
        let query_words = words(query);
        let named = self.toolkit_factors(&query_words);
        let covered: Vec<String> = words(&intent.text)
            .iter()
            .map(|w| stem(w).to_owned())
            .collect();
        let mut hits: Vec<Hit> = engine
            .search(&intent.text, None)
            .into_iter()
            .filter(|r| r.score > 0.0 && keep(&r.document.id))
            .map(|r| {
                let (toolkit, action, weight) = self
                    .tools
                    .get(&r.document.id)
                    .map(|(k, a, w)| (k.as_str(), *a, *w))
                    .unwrap_or(("", None, 1.0));
                // Several of a thing named in the plural ("messages",
                // "threads") is a list, whatever verb asked for it.
                let plural = action == Some(Action::List)
                    && matches!(intent.action, None | Some(Action::Get | Action::List))
                    && query_words.iter().any(|w| {
                        w.len() > 3
                            && stem(w) != w
                            && r.document
                                .id
                                .to_lowercase()
                                .split('_')
                                .any(|s| stem(s) == stem(w))
                    });
                let fit = match (action, intent.action) {
                    _ if plural => Action::List.fit(Action::List),
                    (Some(does), Some(wanted)) => does.fit(wanted),
                    _ => 1.0,
                };
                let named = named.get(toolkit).copied().unwrap_or(1.0);
                // Tool-name matching: the share of the slug's words (after
                // the toolkit's) the query has.
                let slug_words: Vec<String> = words(&r.document.id).into_iter().skip(1).collect();
                let hit = slug_words
                    .iter()
                    .filter(|w| covered.iter().any(|c| c == stem(w)))
                    .count();
                let name = 1.0 + NAME_MATCH * hit as f32 / slug_words.len().max(1) as f32;
                Hit {
                    slug: r.document.id,
                    score: r.score * fit * named * name * weight,
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.slug.cmp(&b.slug))
        });
        hits
    }
}
