//! Tool search: BM25 (the `bm25` crate, English stemming and stop words)
//! over each tool's slug, name, description, tags and toolkit. Fields are
//! weighted by repetition (slug and name count three times, toolkit twice).
//! Results are deterministic: ties break by slug.

use super::Catalog;
use bm25::{Document, Language, SearchEngine, SearchEngineBuilder};

/// The index over every tool of a catalog.
#[derive(Default)]
pub struct Index {
    engine: Option<SearchEngine<String>>,
}

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

impl Index {
    /// Indexes every tool of the catalog.
    pub fn build(catalog: &Catalog) -> Index {
        let documents: Vec<Document<String>> = catalog
            .tools()
            .map(|t| {
                let toolkit_name = catalog.toolkit(&t.toolkit).map(|k| k.name.as_str()).unwrap_or_default();
                let slug_words = t.tool.slug.replace('_', " ").to_lowercase();
                let text = format!(
                    "{slug} {slug} {slug} {name} {name} {name} {toolkit} {toolkit} {toolkit_name} {tags} {description}",
                    slug = slug_words,
                    name = t.tool.name,
                    toolkit = t.toolkit,
                    tags = t.tool.tags.join(" "),
                    description = t.tool.description,
                );
                Document::new(t.tool.slug.clone(), text)
            })
            .collect();
        if documents.is_empty() {
            return Index { engine: None };
        }
        Index {
            engine: Some(
                SearchEngineBuilder::<String>::with_documents(Language::English, documents).build(),
            ),
        }
    }

    /// All matching tools, best first, among those `keep` accepts.
    pub fn search(&self, query: &str, mut keep: impl FnMut(&str) -> bool) -> Vec<Hit> {
        let Some(engine) = &self.engine else {
            return Vec::new();
        };
        let mut hits: Vec<Hit> = engine
            .search(query, None)
            .into_iter()
            .filter(|r| r.score > 0.0 && keep(&r.document.id))
            .map(|r| Hit {
                slug: r.document.id,
                score: r.score,
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
