//! The catalog a server serves, replaceable while it runs: `toolshed serve`
//! reloads the toolkits directory on SIGHUP. Every request and call takes
//! the catalog current when it starts and keeps it to the end, so a reload
//! never changes a tool under a running call; a reload that fails (a bad
//! toolkit file) keeps the catalog being served.

use super::Catalog;
use std::sync::{Arc, RwLock};

/// The catalog being served.
#[derive(Debug)]
pub struct LiveCatalog {
    current: RwLock<Arc<Catalog>>,
}

impl LiveCatalog {
    /// Serves `catalog`.
    pub fn new(catalog: Catalog) -> LiveCatalog {
        LiveCatalog {
            current: RwLock::new(Arc::new(catalog)),
        }
    }

    /// The catalog being served now.
    pub fn current(&self) -> Arc<Catalog> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Serves `catalog` from now on.
    pub fn replace(&self, catalog: Catalog) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(catalog);
    }
}
