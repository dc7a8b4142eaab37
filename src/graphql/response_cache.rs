//! A per-instance cache of whole responses to public catalogue queries (the
//! home page's hot list above all), so the hot path skips GraphQL execution.
//!
//! Freshness across instances: every catalogue invalidation bumps a shared
//! generation counter in the cache (Redis when configured). A request reads
//! the counter once and uses a stored response only if it was made under
//! the same generation; a response is stored under the generation read
//! *before* it was computed, so one computed during an edit is never reused.
//! When the counter cannot be read (Redis down), nothing is cached.
//!
//! Only operations whose root fields are all public catalogue reads qualify,
//! and only for shoppers and anonymous callers (ADMIN and SUPPLIER see more).
use std::{sync::Arc, time::Duration};

use async_graphql::parser::types::{OperationType, Selection};
use sha2::{Digest, Sha256};

use crate::{auth::Viewer, state::AppState};

/// Root fields whose answers are the same for every shopper.
const PUBLIC_ROOTS: &[&str] = &[
    "hotProducts",
    "product",
    "products",
    "categories",
    "__typename",
];

#[derive(Clone)]
pub struct ResponseCache {
    entries: moka::future::Cache<[u8; 32], Arc<(i64, Vec<u8>)>>,
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }
}

/// Whether this request's answer may be shared between shoppers.
pub fn cacheable(request: &mut async_graphql::Request, viewer: Viewer) -> bool {
    if !matches!(
        viewer,
        Viewer::Anonymous | Viewer::Customer(_) | Viewer::InvalidToken
    ) || request.query.len() > 8192
    {
        return false;
    }
    // The guard has parsed it already (a cached, not a second, parse).
    let Ok(doc) = request.parsed_query() else {
        return false;
    };
    if !doc.fragments.is_empty() {
        return false;
    }
    doc.operations.iter().all(|(_, op)| {
        op.node.ty == OperationType::Query
            && op
                .node
                .selection_set
                .node
                .items
                .iter()
                .all(|s| match &s.node {
                    Selection::Field(f) => PUBLIC_ROOTS.contains(&f.node.name.node.as_str()),
                    _ => false,
                })
    })
}

/// What identifies a response: query, operation name and variables.
pub fn key(request: &async_graphql::Request) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(request.query.as_bytes());
    h.update([0]);
    h.update(request.operation_name.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(&request.variables).unwrap_or_default());
    h.finalize().into()
}

impl ResponseCache {
    /// The stored response, if it was made under the current generation.
    pub async fn get(&self, key: &[u8; 32], generation: i64) -> Option<Vec<u8>> {
        self.entries
            .get(key)
            .await
            .filter(|e| e.0 == generation)
            .map(|e| e.1.clone())
    }

    pub async fn put(&self, key: [u8; 32], generation: i64, body: Vec<u8>) {
        self.entries.insert(key, Arc::new((generation, body))).await;
    }
}

/// The current catalogue generation; `None` when it cannot be read.
pub async fn generation(state: &AppState) -> Option<i64> {
    state.cache.catalogue_generation().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_catalogue_queries_for_shoppers() {
        let q = |s: &str| async_graphql::Request::new(s);
        assert!(cacheable(
            &mut q("{ hotProducts(limit: 20) { id title } }"),
            Viewer::Anonymous
        ));
        assert!(cacheable(
            &mut q("query H { hotProducts { id } categories { id } }"),
            Viewer::Customer(1)
        ));
        assert!(!cacheable(
            &mut q("{ hotProducts { id } }"),
            Viewer::Admin(1)
        ));
        assert!(!cacheable(
            &mut q("{ hotProducts { id } }"),
            Viewer::Supplier(1)
        ));
        assert!(!cacheable(&mut q("{ me { id } }"), Viewer::Customer(1)));
        assert!(!cacheable(
            &mut q("{ hotProducts { id } me { id } }"),
            Viewer::Customer(1)
        ));
        assert!(!cacheable(
            &mut q("mutation { hotProducts }"),
            Viewer::Anonymous
        ));
        assert!(!cacheable(
            &mut q("{ ...F } fragment F on Query { me { id } }"),
            Viewer::Anonymous
        ));
        assert!(!cacheable(&mut q("{ broken"), Viewer::Anonymous));
    }

    #[tokio::test]
    async fn entries_are_tied_to_a_generation() {
        let c = ResponseCache::default();
        let r = key(&async_graphql::Request::new("{ hotProducts { id } }"));
        c.put(r, 7, b"x".to_vec()).await;
        assert_eq!(c.get(&r, 7).await, Some(b"x".to_vec()));
        assert_eq!(c.get(&r, 8).await, None);
        let other = async_graphql::Request::new("{ hotProducts { id } }").variables(
            async_graphql::Variables::from_json(serde_json::json!({"a": 1})),
        );
        assert_eq!(c.get(&key(&other), 7).await, None);
    }
}
