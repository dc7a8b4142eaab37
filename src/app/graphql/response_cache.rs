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

/// Bounded in bytes, not entries: responses range from a few bytes to
/// hundreds of kilobytes, so a count says nothing about memory.
#[derive(Clone)]
pub struct ResponseCache {
    entries: moka::future::Cache<[u8; 32], Arc<(i64, Vec<u8>)>>,
    max_bytes: u64,
}

/// What an entry holds besides its body: key, generation, moka's bookkeeping.
const ENTRY_OVERHEAD: u64 = 128;

impl ResponseCache {
    /// A cache holding at most `max_bytes` (`RESPONSE_CACHE_MAX_BYTES`).
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, v: &Arc<(i64, Vec<u8>)>| {
                    u32::try_from(weight(&v.1)).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(60))
                .build(),
            max_bytes,
        }
    }
}

fn weight(body: &[u8]) -> u64 {
    body.len() as u64 + ENTRY_OVERHEAD
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::new(64 * 1024 * 1024)
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

    /// Stores a response, unless it alone is larger than the whole cache.
    pub async fn put(&self, key: [u8; 32], generation: i64, body: Vec<u8>) {
        if weight(&body) > self.max_bytes {
            return;
        }
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
            Viewer::Admin(crate::auth::Staff {
                id: 1,
                role: crate::auth::StaffRole::Owner
            })
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

    #[tokio::test]
    async fn bounded_in_bytes() {
        let c = ResponseCache::new(10 * (1000 + ENTRY_OVERHEAD));
        for i in 0..100 {
            let r = key(&async_graphql::Request::new(format!("{{ q{i} }}")));
            c.put(r, 1, vec![b'x'; 1000]).await;
        }
        c.entries.run_pending_tasks().await;
        assert!(c.entries.weighted_size() <= 10 * (1000 + ENTRY_OVERHEAD));
        assert!(c.entries.entry_count() <= 10);
        // One response larger than the whole cache is not kept at all.
        let big = key(&async_graphql::Request::new("{ big }"));
        c.put(big, 1, vec![b'x'; 20_000]).await;
        assert_eq!(c.get(&big, 1).await, None);
    }
}
