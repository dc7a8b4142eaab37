//! A per-instance cache of whole responses to public catalogue queries (the
//! home page's hot list above all), so the hot path skips GraphQL execution.
//!
//! Freshness across instances: every catalogue invalidation bumps a shared
//! generation counter in the cache (Redis when configured), which each
//! instance follows in process through Redis pub/sub (`cache::generation`:
//! no round trip per request, a documented staleness bound of at most 1 s,
//! normally the time Redis takes to deliver a message). A stored response
//! is used only if it was made under the current generation; a response is
//! stored under the generation read *before* it was computed, so one
//! computed during an edit is never reused. When the generation cannot be
//! known (Redis down), nothing is cached.
//!
//! What qualifies is decided on the operation that runs, with its fragments
//! expanded: every root field a public catalogue read, and only for
//! shoppers and anonymous callers (ADMIN and SUPPLIER see more). A client's
//! fragments, aliases and `__typename` do not defeat it, and a private field
//! hidden in a fragment does not sneak in. The key is a canonical print of
//! that operation (fragments inlined as typed inline fragments, which
//! answer the same; whitespace, commas, comments and the operation's name
//! dropped) with the variables, so documents that differ only in those
//! share one entry.
use std::{fmt::Write, sync::Arc, time::Duration};

use actix_web::web::Bytes;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned};
use sha2::{Digest, Sha256};

use crate::auth::Viewer;

/// Root fields whose answers are the same for every shopper.
const PUBLIC_ROOTS: &[&str] = &[
    "hotProducts",
    "product",
    "products",
    "categories",
    "__typename",
];

/// Documents longer than this are not considered (nor hashed).
const MAX_QUERY_BYTES: usize = 8192;
/// A canonical print longer than this (fragments spread many times) is not
/// cached: its key would cost more than it saves.
const MAX_CANONICAL_BYTES: usize = 64 * 1024;

/// Bounded in bytes, not entries: responses range from a few bytes to
/// hundreds of kilobytes, so a count says nothing about memory.
#[derive(Clone)]
pub struct ResponseCache {
    entries: moka::future::Cache<[u8; 32], Arc<(i64, Bytes)>>,
    max_bytes: u64,
    /// Request bodies whose answer was stored, by their exact bytes: see
    /// [`ResponseCache::known`].
    bodies: moka::sync::Cache<Bytes, Arc<Known>>,
}

/// What a request body that was answered from here is known by. Both are
/// functions of the body's bytes alone (the guard's checks and the key read
/// the document, operation name and variables, nothing else), for any
/// caller who [`shares`] answers.
pub struct Known {
    /// The operation's label for metrics and logs.
    pub label: String,
    /// The key its answer is stored under.
    pub key: [u8; 32],
}

/// What the memo of known bodies may hold, in bytes of body (a share of a
/// small cache: a body is at most [`MAX_QUERY_BYTES`] plus its variables).
const MAX_KNOWN_BYTES: u64 = 4 * 1024 * 1024;

/// What an entry holds besides its body: key, generation, moka's bookkeeping.
const ENTRY_OVERHEAD: u64 = 128;

impl ResponseCache {
    /// A cache holding at most `max_bytes` (`RESPONSE_CACHE_MAX_BYTES`); 0
    /// turns it off.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: moka::future::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|_, v: &Arc<(i64, Bytes)>| u32::try_from(weight(&v.1)).unwrap_or(u32::MAX))
                .time_to_live(Duration::from_secs(60))
                .build(),
            max_bytes,
            bodies: moka::sync::Cache::builder()
                .max_capacity(MAX_KNOWN_BYTES)
                .weigher(|body: &Bytes, known: &Arc<Known>| {
                    u32::try_from(body.len() + known.label.len()).unwrap_or(u32::MAX) + 64
                })
                .build(),
        }
    }

    /// The label and key of a request body whose answer was stored before,
    /// so that serving it again skips parsing the JSON, the guard, and
    /// printing the canonical document: a client asking for the home page
    /// sends the same bytes every time. Whether the answer is still there,
    /// and current, is [`ResponseCache::get`]'s to say.
    pub fn known(&self, body: &Bytes) -> Option<Arc<Known>> {
        if !self.enabled() {
            return None;
        }
        self.bodies.get(body)
    }

    /// Remembers that `body` (a single request that passed the guard as
    /// `label`) is answered under `key`.
    pub fn learn(&self, body: Bytes, label: &str, key: [u8; 32]) {
        if body.len() > MAX_QUERY_BYTES * 2 || self.bodies.contains_key(&body) {
            return;
        }
        self.bodies.insert(
            body,
            Arc::new(Known {
                label: label.to_string(),
                key,
            }),
        );
    }

    /// Whether anything can be kept at all.
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
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

/// Whether `viewer` is one of the callers who share answers: shoppers and
/// anonymous callers (ADMIN and SUPPLIER see more).
pub fn shares(viewer: Viewer) -> bool {
    matches!(
        viewer,
        Viewer::Anonymous | Viewer::Customer(_) | Viewer::InvalidToken
    )
}

/// The key this request's answer is shared under, when it may be shared
/// between shoppers at all.
pub fn shared_key(request: &mut async_graphql::Request, viewer: Viewer) -> Option<[u8; 32]> {
    if !shares(viewer) || request.query.len() > MAX_QUERY_BYTES {
        return None;
    }
    let operation_name = request.operation_name.clone();
    // The guard has parsed it already (a cached, not a second, parse).
    let doc = request.parsed_query().ok()?;
    let canonical = canonical(doc, operation_name.as_deref())?;
    let mut h = Sha256::new();
    h.update(canonical.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(&request.variables).ok()?);
    Some(h.finalize().into())
}

/// The canonical print of the operation that runs, when it is a query whose
/// root fields are all public catalogue reads.
fn canonical(doc: &ExecutableDocument, operation_name: Option<&str>) -> Option<String> {
    let (_, op) = super::guard::select(doc, operation_name)?;
    let op = &op.node;
    if op.ty != OperationType::Query {
        return None;
    }
    let mut p = Printer {
        doc,
        out: String::with_capacity(256),
    };
    p.out.push_str("query");
    if !op.variable_definitions.is_empty() {
        p.out.push('(');
        for (i, v) in op.variable_definitions.iter().enumerate() {
            if i > 0 {
                p.out.push(',');
            }
            let v = &v.node;
            write!(p.out, "${}:{}", v.name.node, v.var_type.node).ok()?;
            if let Some(d) = &v.default_value {
                write!(p.out, "={}", d.node).ok()?;
            }
            p.directives(&v.directives)?;
        }
        p.out.push(')');
    }
    p.directives(&op.directives)?;
    p.selection_set(&op.selection_set.node, true, 0)?;
    Some(p.out)
}

/// Prints a selection set with every named fragment inlined.
struct Printer<'d> {
    doc: &'d ExecutableDocument,
    out: String,
}

/// Nesting deeper than the guard lets through (it measures depth across
/// fragments): a document this deep is left uncached.
const MAX_NESTING: usize = 64;

impl Printer<'_> {
    fn selection_set(&mut self, set: &SelectionSet, root: bool, nesting: usize) -> Option<()> {
        if nesting > MAX_NESTING || self.out.len() > MAX_CANONICAL_BYTES {
            return None;
        }
        self.out.push('{');
        for (i, item) in set.items.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            match &item.node {
                Selection::Field(f) => self.field(&f.node, root, nesting)?,
                Selection::InlineFragment(f) => {
                    let f = &f.node;
                    self.out.push_str("...");
                    if let Some(on) = &f.type_condition {
                        write!(self.out, "on {}", on.node.on.node).ok()?;
                    }
                    self.directives(&f.directives)?;
                    self.selection_set(&f.selection_set.node, root, nesting + 1)?;
                }
                Selection::FragmentSpread(s) => {
                    // `...F` answers as `... on T @d { F's selections }`.
                    let s = &s.node;
                    let def = &self.doc.fragments.get(&s.fragment_name.node)?.node;
                    write!(self.out, "...on {}", def.type_condition.node.on.node).ok()?;
                    self.directives(&s.directives)?;
                    self.directives(&def.directives)?;
                    self.selection_set(&def.selection_set.node, root, nesting + 1)?;
                }
            }
        }
        self.out.push('}');
        Some(())
    }

    fn field(&mut self, f: &Field, root: bool, nesting: usize) -> Option<()> {
        if root && !PUBLIC_ROOTS.contains(&f.name.node.as_str()) {
            return None;
        }
        if let Some(alias) = &f.alias {
            write!(self.out, "{}:", alias.node).ok()?;
        }
        self.out.push_str(&f.name.node);
        self.arguments(&f.arguments)?;
        self.directives(&f.directives)?;
        if !f.selection_set.node.items.is_empty() {
            self.selection_set(&f.selection_set.node, false, nesting + 1)?;
        }
        Some(())
    }

    fn arguments(
        &mut self,
        args: &[(Positioned<Name>, Positioned<async_graphql_value::Value>)],
    ) -> Option<()> {
        if args.is_empty() {
            return Some(());
        }
        self.out.push('(');
        for (i, (name, value)) in args.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write!(self.out, "{}:{}", name.node, value.node).ok()?;
        }
        self.out.push(')');
        Some(())
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) -> Option<()> {
        for d in directives {
            write!(self.out, "@{}", d.node.name.node).ok()?;
            self.arguments(&d.node.arguments)?;
        }
        Some(())
    }
}

impl ResponseCache {
    /// The stored response, if it was made under the current generation.
    pub async fn get(&self, key: &[u8; 32], generation: i64) -> Option<Bytes> {
        self.entries
            .get(key)
            .await
            .filter(|e| e.0 == generation)
            .map(|e| e.1.clone())
    }

    /// Stores a response, unless it alone is larger than the whole cache.
    pub async fn put(&self, key: [u8; 32], generation: i64, body: Bytes) {
        if weight(&body) > self.max_bytes {
            return;
        }
        self.entries.insert(key, Arc::new((generation, body))).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(query: &str, viewer: Viewer) -> Option<[u8; 32]> {
        shared_key(&mut async_graphql::Request::new(query), viewer)
    }

    #[test]
    fn only_public_catalogue_queries_for_shoppers() {
        let ok = |s: &str, v: Viewer| key_of(s, v).is_some();
        assert!(ok(
            "{ hotProducts(limit: 20) { id title } }",
            Viewer::Anonymous
        ));
        assert!(ok(
            "query H { hotProducts { id } categories { id } }",
            Viewer::Customer(1)
        ));
        assert!(!ok(
            "{ hotProducts { id } }",
            Viewer::Admin(crate::auth::Staff {
                id: 1,
                role: crate::auth::StaffRole::Owner
            })
        ));
        assert!(!ok("{ hotProducts { id } }", Viewer::Supplier(1)));
        assert!(!ok("{ me { id } }", Viewer::Customer(1)));
        assert!(!ok("{ hotProducts { id } me { id } }", Viewer::Customer(1)));
        assert!(!ok("mutation { hotProducts }", Viewer::Anonymous));
        assert!(!ok("{ broken", Viewer::Anonymous));
        // Fragments are expanded: public ones qualify, a private field in
        // one (at any depth of spreading, or inline) does not.
        assert!(ok(
            "{ ...F } fragment F on Query { hot: hotProducts { ...C } } fragment C on Product { id __typename }",
            Viewer::Anonymous
        ));
        assert!(!ok(
            "{ ...F } fragment F on Query { me { id } }",
            Viewer::Anonymous
        ));
        assert!(!ok(
            "{ hotProducts { id } ...F } fragment F on Query { ...G } fragment G on Query { me { id } }",
            Viewer::Anonymous
        ));
        assert!(!ok(
            "{ hotProducts { id } ... on Query { myOrders { nodes { id } } } }",
            Viewer::Customer(1)
        ));
        // Only the operation that runs counts.
        let mut two =
            async_graphql::Request::new("query A { hotProducts { id } } query B { me { id } }")
                .operation_name("A");
        assert!(shared_key(&mut two, Viewer::Anonymous).is_some());
        let mut two =
            async_graphql::Request::new("query A { hotProducts { id } } query B { me { id } }")
                .operation_name("B");
        assert!(shared_key(&mut two, Viewer::Anonymous).is_none());
    }

    #[test]
    fn one_key_for_documents_that_answer_alike() {
        let plain = key_of(
            "{ products(first: 2) { nodes { id title } } }",
            Viewer::Anonymous,
        );
        for same in [
            "query   Page {\n  products(first: 2) {\n    nodes { id, title }\n  }\n} # comment",
            "query Other { products(first: 2) { nodes { id title } } }",
        ] {
            assert_eq!(key_of(same, Viewer::Anonymous), plain, "{same}");
        }
        // Fragment names do not matter; what they hold does.
        let a = key_of(
            "{ products(first: 2) { nodes { ...A } } } fragment A on Product { id }",
            Viewer::Anonymous,
        );
        let b = key_of(
            "{ products(first: 2) { nodes { ...B } } } fragment B on Product { id }",
            Viewer::Anonymous,
        );
        assert_eq!(a, b);
        for different in [
            "{ products(first: 3) { nodes { id title } } }",
            "{ products(first: 2) { nodes { title id } } }",
            "{ products(first: 2) { items: nodes { id title } } }",
            "{ products(first: 2) { nodes { id title __typename } } }",
        ] {
            assert_ne!(key_of(different, Viewer::Anonymous), plain, "{different}");
        }
        let with = |v: serde_json::Value| {
            shared_key(
                &mut async_graphql::Request::new(
                    "query($n: Int) { products(first: $n) { nodes { id } } }",
                )
                .variables(async_graphql::Variables::from_json(v)),
                Viewer::Anonymous,
            )
        };
        assert_ne!(
            with(serde_json::json!({"n": 1})),
            with(serde_json::json!({"n": 2}))
        );
    }

    #[test]
    fn bodies_are_known_once_learned_and_not_when_off() {
        let c = ResponseCache::default();
        let body = Bytes::from_static(br#"{"query":"{ hotProducts { id } }"}"#);
        assert!(c.known(&body).is_none());
        c.learn(body.clone(), "anonymous", [7; 32]);
        let k = c.known(&body).expect("learned");
        assert_eq!((k.label.as_str(), k.key), ("anonymous", [7; 32]));
        assert!(c.known(&Bytes::from_static(b"{}")).is_none());
        let off = ResponseCache::new(0);
        off.learn(body.clone(), "anonymous", [7; 32]);
        assert!(off.known(&body).is_none());
    }

    #[tokio::test]
    async fn entries_are_tied_to_a_generation() {
        let c = ResponseCache::default();
        let r = key_of("{ hotProducts { id } }", Viewer::Anonymous).unwrap();
        c.put(r, 7, Bytes::from_static(b"x")).await;
        assert_eq!(c.get(&r, 7).await, Some(Bytes::from_static(b"x")));
        assert_eq!(c.get(&r, 8).await, None);
    }

    #[tokio::test]
    async fn bounded_in_bytes() {
        let c = ResponseCache::new(10 * (1000 + ENTRY_OVERHEAD));
        for i in 0..100 {
            let r = key_of(
                &format!("{{ product(id: \"{i}\") {{ id }} }}"),
                Viewer::Anonymous,
            )
            .unwrap();
            c.put(r, 1, Bytes::from(vec![b'x'; 1000])).await;
        }
        c.entries.run_pending_tasks().await;
        assert!(c.entries.weighted_size() <= 10 * (1000 + ENTRY_OVERHEAD));
        assert!(c.entries.entry_count() <= 10);
        // One response larger than the whole cache is not kept at all.
        let big = key_of("{ categories { id } }", Viewer::Anonymous).unwrap();
        c.put(big, 1, Bytes::from(vec![b'x'; 20_000])).await;
        assert_eq!(c.get(&big, 1).await, None);
    }
}
