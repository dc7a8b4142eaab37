//! The check every GraphQL document passes before async-graphql validates
//! or runs it.
//!
//! async-graphql's own limits (depth, complexity) are computed by validation
//! visitors that inline every fragment spread, so a 1 KB document whose
//! fragments each spread the previous one twice is walked 2^n times before
//! any limit is looked at. Here the document is parsed once and every
//! fragment is measured once (memoized): the check takes time linear in the
//! document, and only what passes reaches async-graphql (which gets the
//! parsed document and does not parse it again).
//!
//! What is measured, per operation and per fragment:
//! - **depth**: fields inside fields, as async-graphql counts it
//!   (`MAX_QUERY_DEPTH`). Documents that only introspect (`__schema`,
//!   `__type`, `__typename` at the root) get [`INTROSPECTION_MAX_DEPTH`]
//!   instead when introspection is on: the standard introspection query is
//!   15 levels deep, and its size is bounded by the schema, not the data.
//!   Their lists may nest at most as graphql-js's `MaxIntrospectionDepthRule`
//!   allows, which is what stops an introspection query from multiplying.
//! - **cost** (`MAX_QUERY_COMPLEXITY`): every field 1, aliases each time; a
//!   page size (`first`, `limit`) multiplies what is under it (the list
//!   itself, or a connection's `edges`/`nodes`); `totalCount` and a keyword
//!   search cost extra. A batch shares one budget.
//! - **work**: async-graphql's validation still walks every operation and
//!   every fragment definition with spreads inlined; the sum of those
//!   expanded sizes is held under a few budgets.
//! - **lists**: every list argument and list input field is bounded by
//!   [`validate::LIST_LIMITS`].
//!
//! Refusals are `QUERY_TOO_COMPLEX` (limits) or `BAD_USER_INPUT` (a list too
//! long, a fragment that spreads itself).
use std::collections::{HashMap, HashSet};

use async_graphql::{
    BatchRequest, Name, Positioned, Request,
    parser::{
        parse_query, parse_schema,
        types::{
            BaseType, DocumentOperations, ExecutableDocument, Field, OperationDefinition,
            OperationType, Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
        },
    },
};

use async_graphql_value::{ConstValue, Value};

use crate::{
    api::pagination, config::Settings, error::AppError, metrics::OperationLabels, validate,
};

/// What a `totalCount` costs on top of its field: a count over the filtered rows.
const TOTAL_COUNT_COST: u64 = 50;
/// What a keyword search costs on top of its field: a `LIKE '%…%'` scan.
const KEYWORD_COST: u64 = 50;
/// Depth allowed to documents that only introspect (the standard query needs 15).
pub const INTROSPECTION_MAX_DEPTH: usize = 32;
/// Introspection lists (`fields`, `interfaces`, `possibleTypes`,
/// `inputFields`) nested this deep are refused, as graphql-js does.
const INTROSPECTION_MAX_LISTS: u32 = 3;
const INTROSPECTION_LISTS: &[&str] = &["fields", "interfaces", "possibleTypes", "inputFields"];
/// Fragment spreads and inline fragments inside each other (keeps the walk's stack small).
const MAX_FRAGMENT_NESTING: usize = 64;
/// Literal values nested deeper than this are refused (no input type nests nearly as deep).
const MAX_VALUE_NESTING: usize = 32;
/// The whole document's expanded size, in budgets (`MAX_QUERY_COMPLEXITY`).
const DOCUMENT_WORK_BUDGETS: u64 = 10;

/// A field of an object or interface type, as far as the check needs it.
struct FieldShape {
    /// The named type under the list and non-null wrappers.
    named: Name,
    /// Returns a list (so a page size above multiplies it).
    list: bool,
    /// `first`/`limit` and the page size when it is omitted.
    page: Option<(&'static str, u64)>,
    args: HashMap<Name, Type>,
}

/// The per-application check; built once from the served schema's SDL.
pub struct Guard {
    outputs: HashMap<Name, HashMap<Name, FieldShape>>,
    inputs: HashMap<Name, HashMap<Name, Type>>,
    query_root: Name,
    mutation_root: Name,
    max_depth: usize,
    max_cost: u64,
    introspection: bool,
    labels: OperationLabels,
}

/// What a request that passed is known by.
#[derive(Debug)]
pub struct Passed {
    /// Its operation's name for metrics and logs: one the document really
    /// holds (`anonymous` when unnamed), folded to `other` past a cap.
    pub label: String,
    pub cost: u64,
    /// The operation that runs is a query (so it runs no mutation field).
    pub query: bool,
}

impl Guard {
    pub fn new(sdl: &str, settings: &Settings) -> Self {
        let mut guard = Self {
            outputs: HashMap::new(),
            inputs: HashMap::new(),
            query_root: Name::new("Query"),
            mutation_root: Name::new("Mutation"),
            max_depth: settings.max_depth,
            max_cost: settings.max_complexity as u64,
            introspection: settings.introspection,
            labels: OperationLabels::default(),
        };
        // The SDL is printed by async-graphql from the schema being served.
        let doc = parse_schema(sdl).expect("the served schema's SDL parses");
        for def in doc.definitions {
            match def {
                TypeSystemDefinition::Schema(s) => {
                    if let Some(q) = &s.node.query {
                        guard.query_root = q.node.clone();
                    }
                    if let Some(m) = &s.node.mutation {
                        guard.mutation_root = m.node.clone();
                    }
                }
                TypeSystemDefinition::Type(t) => {
                    let t = t.node;
                    let fields = match t.kind {
                        TypeKind::Object(o) => o.fields,
                        TypeKind::Interface(i) => i.fields,
                        TypeKind::InputObject(i) => {
                            let fields = i
                                .fields
                                .into_iter()
                                .map(|f| (f.node.name.node, f.node.ty.node))
                                .collect();
                            guard.inputs.insert(t.name.node, fields);
                            continue;
                        }
                        _ => continue,
                    };
                    let shapes = fields
                        .into_iter()
                        .map(|f| {
                            let f = f.node;
                            let page = f.arguments.iter().find_map(|a| {
                                let name = match a.node.name.node.as_str() {
                                    "first" => "first",
                                    "limit" => "limit",
                                    _ => return None,
                                };
                                let default = match &a.node.default_value {
                                    Some(v) => page_size(&v.node).unwrap_or(1),
                                    None => pagination::DEFAULT_PAGE,
                                };
                                Some((name, default))
                            });
                            let args = f
                                .arguments
                                .into_iter()
                                .map(|a| (a.node.name.node, a.node.ty.node))
                                .collect();
                            let (named, list) = unwrap_type(&f.ty.node);
                            (
                                f.name.node,
                                FieldShape {
                                    named,
                                    list,
                                    page,
                                    args,
                                },
                            )
                        })
                        .collect();
                    guard.outputs.insert(t.name.node, shapes);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        guard
    }

    /// Checks every request of a batch, each on its own and all together
    /// against one budget. Each request that passes carries its parsed
    /// document; one that fails gets the reason.
    pub fn check_batch(&self, batch: &mut BatchRequest) -> Vec<Result<Passed, AppError>> {
        let mut results: Vec<Result<Passed, AppError>> =
            batch.iter_mut().map(|r| self.check(r)).collect();
        let total: u64 = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .fold(0, |sum, p| sum.saturating_add(p.cost));
        if results.len() > 1 && total > self.max_cost {
            let refusal = AppError::QueryTooComplex(format!(
                "the operations of this batch cost {total} together, more than the limit of {}; send fewer at a time",
                self.max_cost
            ));
            for r in &mut results {
                if r.is_ok() {
                    *r = Err(refusal.clone());
                }
            }
        }
        results
    }

    /// Checks one request; on success the request carries its parsed
    /// document, adjusted for omitted variables (see [`super::variables`]).
    pub fn check(&self, request: &mut Request) -> Result<Passed, AppError> {
        // A document that does not parse is left to async-graphql, which
        // reports where; parsing is linear, so nothing is lost.
        let Ok(mut doc) = parse_query(&request.query) else {
            return Ok(Passed {
                label: self.labels.label(None),
                cost: 0,
                query: false,
            });
        };
        let selected = select(&doc, request.operation_name.as_deref());
        let defaults: HashMap<&Name, &ConstValue> = selected
            .map(|(_, op)| {
                op.node
                    .variable_definitions
                    .iter()
                    .filter_map(|d| Some((&d.node.name.node, &d.node.default_value.as_ref()?.node)))
                    .collect()
            })
            .unwrap_or_default();
        let introspection_only = self.introspection
            && doc
                .operations
                .iter()
                .all(|(_, op)| self.only_introspects(&doc, op));
        let depth_limit = if introspection_only {
            INTROSPECTION_MAX_DEPTH.max(self.max_depth)
        } else {
            self.max_depth
        };
        let mut walk = Walk {
            guard: self,
            doc: &doc,
            variables: &request.variables,
            defaults,
            depth_limit,
            fragments: HashMap::new(),
        };
        let mut work: u64 = 0;
        let mut cost = 0;
        for (name, op) in doc.operations.iter() {
            let root = match op.node.ty {
                OperationType::Query => Some(&self.query_root),
                OperationType::Mutation => Some(&self.mutation_root),
                OperationType::Subscription => None,
            };
            let s = walk.selection_set(&op.node.selection_set.node, root, 0, 0, 0)?;
            walk.check_depth(s.depth)?;
            work = work.saturating_add(s.fields);
            if selected.is_some_and(|(n, _)| n == name) {
                cost = s.base.saturating_add(s.per_item);
            }
        }
        for name in doc.fragments.keys() {
            let s = walk.fragment(name, 0, 0)?;
            work = work.saturating_add(s.fields);
        }
        if cost > self.max_cost {
            return Err(AppError::QueryTooComplex(format!(
                "the query costs {cost}, more than the limit of {}: every field counts, page sizes (first, limit) multiply what is under them, totalCount and a keyword search cost more",
                self.max_cost
            )));
        }
        let work_limit = self.max_cost.saturating_mul(DOCUMENT_WORK_BUDGETS);
        if work > work_limit {
            return Err(AppError::QueryTooComplex(format!(
                "the document expands to {work} fields with its fragments inlined, more than {work_limit}"
            )));
        }
        let query = selected.is_some_and(|(_, op)| op.node.ty == OperationType::Query);
        let operation = selected.and_then(|(name, _)| name.cloned());
        // Labelled only once it passed: refused documents take no label.
        let label = self.labels.label(operation.as_ref().map(Name::as_str));
        drop(walk);
        super::variables::drop_omitted(&mut doc, operation.as_ref(), &request.variables);
        request.set_parsed_query(doc);
        Ok(Passed { label, cost, query })
    }

    /// Whether an operation asks only for `__schema`, `__type` and
    /// `__typename`. Fragments spread at the root are looked at once each
    /// (`seen`), so this too is linear.
    fn only_introspects(
        &self,
        doc: &ExecutableDocument,
        op: &Positioned<OperationDefinition>,
    ) -> bool {
        fn set<'d>(
            doc: &'d ExecutableDocument,
            s: &'d SelectionSet,
            seen: &mut HashSet<&'d Name>,
            nesting: usize,
        ) -> bool {
            nesting <= MAX_FRAGMENT_NESTING
                && s.items.iter().all(|item| match &item.node {
                    Selection::Field(f) => f.node.name.node.starts_with("__"),
                    Selection::InlineFragment(i) => {
                        set(doc, &i.node.selection_set.node, seen, nesting + 1)
                    }
                    Selection::FragmentSpread(sp) => {
                        let name = &sp.node.fragment_name.node;
                        !seen.insert(name)
                            || doc.fragments.get(name).is_some_and(|f| {
                                set(doc, &f.node.selection_set.node, seen, nesting + 1)
                            })
                    }
                })
        }
        op.node.ty == OperationType::Query
            && set(doc, &op.node.selection_set.node, &mut HashSet::new(), 0)
    }
}

/// The operation a request runs: the one `operationName` names, or the only one.
pub(super) fn select<'d>(
    doc: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<(Option<&'d Name>, &'d Positioned<OperationDefinition>)> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), None) => Some((None, op)),
        (DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get_key_value(name).map(|(n, op)| (Some(n), op))
        }
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.iter().next().map(|(n, op)| (Some(n), op))
        }
        _ => None,
    }
}

/// `[[T!]!]` → (`T`, true).
fn unwrap_type(ty: &Type) -> (Name, bool) {
    match &ty.base {
        BaseType::Named(n) => (n.clone(), false),
        BaseType::List(inner) => (unwrap_type(inner).0, true),
    }
}

/// A page size as given; anything but a positive integer counts as one
/// (the resolver refuses it before any work is done).
fn page_size(v: &ConstValue) -> Option<u64> {
    match v {
        ConstValue::Number(n) => n.as_u64().map(|n| n.clamp(1, pagination::MAX_PAGE)),
        _ => None,
    }
}

/// Sizes of a selection set, with fragments inlined.
#[derive(Clone, Copy, Default, Debug)]
struct Summary {
    /// Cost of the fields that are not lists.
    base: u64,
    /// Cost of the list fields (a page size on the parent multiplies these).
    per_item: u64,
    /// Fields, inlined, without multipliers: the work of validating it.
    fields: u64,
    /// Deepest field nesting.
    depth: usize,
    /// Deepest nesting of introspection lists.
    introspection_lists: u32,
}

impl Summary {
    fn add(&mut self, other: Summary) {
        self.base = self.base.saturating_add(other.base);
        self.per_item = self.per_item.saturating_add(other.per_item);
        self.fields = self.fields.saturating_add(other.fields);
        self.depth = self.depth.max(other.depth);
        self.introspection_lists = self.introspection_lists.max(other.introspection_lists);
    }
}

enum Memo {
    /// Being measured: meeting it again is a cycle.
    Open,
    Done(Summary),
}

/// One request's walk over its document.
struct Walk<'a> {
    guard: &'a Guard,
    doc: &'a ExecutableDocument,
    variables: &'a async_graphql::Variables,
    defaults: HashMap<&'a Name, &'a ConstValue>,
    depth_limit: usize,
    fragments: HashMap<&'a Name, Memo>,
}

impl<'a> Walk<'a> {
    fn check_depth(&self, depth: usize) -> Result<(), AppError> {
        if depth > self.depth_limit {
            return Err(AppError::QueryTooComplex(format!(
                "the query is nested more than {} levels deep",
                self.depth_limit
            )));
        }
        Ok(())
    }

    /// A fragment's sizes, measured once per request whatever spreads it.
    /// `abs`: fields above the spread, counted from the operation's root.
    fn fragment(
        &mut self,
        name: &'a Name,
        abs: usize,
        nesting: usize,
    ) -> Result<Summary, AppError> {
        let Some(def) = self.doc.fragments.get(name) else {
            // Unknown fragments are reported by validation.
            return Ok(Summary::default());
        };
        match self.fragments.get(name) {
            Some(Memo::Done(s)) => return Ok(*s),
            Some(Memo::Open) => {
                return Err(AppError::bad_input(
                    "query",
                    format!("fragment {name} spreads itself"),
                ));
            }
            None => {}
        }
        self.fragments.insert(name, Memo::Open);
        let on = &def.node.type_condition.node.on.node;
        let s = self.selection_set(&def.node.selection_set.node, Some(on), 0, abs, nesting + 1)?;
        self.check_depth(s.depth)?;
        self.fragments.insert(name, Memo::Done(s));
        Ok(s)
    }

    /// `level`: fields above this set within the operation or fragment
    /// being measured (its summary does not depend on where it is spread);
    /// `abs`: fields above it from the operation's root, which bounds the
    /// walk as it goes; `nesting`: spreads and inline fragments above it.
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        ty: Option<&'a Name>,
        level: usize,
        abs: usize,
        nesting: usize,
    ) -> Result<Summary, AppError> {
        if nesting > MAX_FRAGMENT_NESTING {
            return Err(AppError::QueryTooComplex(format!(
                "fragments nest more than {MAX_FRAGMENT_NESTING} deep"
            )));
        }
        self.check_depth(abs)?;
        let mut sum = Summary::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => sum.add(self.field(&f.node, ty, level, abs, nesting)?),
                Selection::InlineFragment(i) => {
                    let on = i.node.type_condition.as_ref().map(|c| &c.node.on.node);
                    sum.add(self.selection_set(
                        &i.node.selection_set.node,
                        on.or(ty),
                        level,
                        abs,
                        nesting + 1,
                    )?)
                }
                Selection::FragmentSpread(sp) => {
                    let mut s = self.fragment(&sp.node.fragment_name.node, abs, nesting)?;
                    s.depth += level;
                    sum.add(s)
                }
            }
        }
        Ok(sum)
    }

    fn field(
        &mut self,
        field: &'a Field,
        parent: Option<&'a Name>,
        level: usize,
        abs: usize,
        nesting: usize,
    ) -> Result<Summary, AppError> {
        let name = &field.name.node;
        let shape = parent.and_then(|p| self.guard.outputs.get(p)?.get(name));
        let under = self.selection_set(
            &field.selection_set.node,
            shape.map(|s| &s.named),
            level + 1,
            abs + 1,
            nesting,
        )?;
        let mut extra = if name == "totalCount" {
            TOTAL_COUNT_COST
        } else {
            0
        };
        let mut keyword = false;
        let mut page = shape.and_then(|s| s.page).map(|(_, default)| default);
        for (arg, value) in &field.arguments {
            let value = self.resolve(&value.node);
            keyword |= (arg.node == "keyword" && searches(&value)) || has_keyword(&value, 0);
            let Some(shape) = shape else { continue };
            if shape.page.is_some_and(|(p, _)| arg.node == p) {
                page = Some(page_size(&value).unwrap_or(page.unwrap_or(1)));
            }
            if let (Some(parent), Some(ty)) = (parent, shape.args.get(&arg.node))
                && self.may_hold_lists(ty)
            {
                let coordinate = format!("{parent}.{name}({}:)", arg.node);
                self.check_lists(&value, ty, &coordinate, &|| arg.node.to_string(), 0)?;
            }
        }
        if keyword {
            extra += KEYWORD_COST;
        }
        let children = match (page, shape.is_some_and(|s| s.list)) {
            (Some(n), true) => under.base.saturating_add(under.per_item).saturating_mul(n),
            (Some(n), false) => under.base.saturating_add(under.per_item.saturating_mul(n)),
            (None, _) => under.base.saturating_add(under.per_item),
        };
        let cost = 1u64.saturating_add(extra).saturating_add(children);
        let lists =
            under.introspection_lists + u32::from(INTROSPECTION_LISTS.contains(&name.as_str()));
        if (name == "__schema" || name == "__type")
            && under.introspection_lists >= INTROSPECTION_MAX_LISTS
        {
            return Err(AppError::QueryTooComplex(format!(
                "introspection nests fields, interfaces, possibleTypes or inputFields {INTROSPECTION_MAX_LISTS} or more levels deep"
            )));
        }
        let list = shape.is_some_and(|s| s.list);
        Ok(Summary {
            base: if list { 0 } else { cost },
            per_item: if list { cost } else { 0 },
            fields: under.fields.saturating_add(1),
            depth: under.depth.max(level + 1),
            introspection_lists: lists,
        })
    }

    /// An argument's value with the request's variables in it (an omitted
    /// variable takes its definition's default, else null).
    fn resolve(&self, value: &Value) -> ConstValue {
        value
            .clone()
            .into_const_with(|name| {
                Ok::<_, std::convert::Infallible>(
                    self.variables
                        .get(&name)
                        .or_else(|| self.defaults.get(&name).copied())
                        .cloned()
                        .unwrap_or(ConstValue::Null),
                )
            })
            .unwrap_or(ConstValue::Null)
    }

    /// A list, or an input object (whose fields may be lists).
    fn may_hold_lists(&self, ty: &Type) -> bool {
        match &ty.base {
            BaseType::List(_) => true,
            BaseType::Named(n) => self.guard.inputs.contains_key(n.as_str()),
        }
    }

    /// Refuses a list longer than its limit anywhere in `value` of type `ty`.
    /// `path` names the place for the client (`skuIds`, `input.skus[2].specs`).
    fn check_lists(
        &self,
        value: &ConstValue,
        ty: &Type,
        coordinate: &str,
        path: &dyn Fn() -> String,
        nesting: usize,
    ) -> Result<(), AppError> {
        if nesting > MAX_VALUE_NESTING {
            return Err(AppError::bad_input(path(), "nested too deep"));
        }
        match (&ty.base, value) {
            (BaseType::List(inner), ConstValue::List(items)) => {
                let limit = validate::list_limit(coordinate);
                if items.len() > limit {
                    return Err(AppError::bad_input(
                        path(),
                        format!("at most {limit} items, not {}", items.len()),
                    ));
                }
                // Items of a scalar type hold no lists: skip the walk.
                if !self.may_hold_lists(inner) {
                    return Ok(());
                }
                for (i, item) in items.iter().enumerate() {
                    self.check_lists(
                        item,
                        inner.as_ref(),
                        coordinate,
                        &|| format!("{}[{i}]", path()),
                        nesting + 1,
                    )?;
                }
                Ok(())
            }
            (BaseType::Named(input), ConstValue::Object(fields)) => {
                let Some(shape) = self.guard.inputs.get(input.as_str()) else {
                    return Ok(());
                };
                for (name, v) in fields {
                    if let Some(ty) = shape.get(name) {
                        let coordinate = format!("{input}.{name}");
                        self.check_lists(
                            v,
                            ty,
                            &coordinate,
                            &|| format!("{}.{name}", path()),
                            nesting + 1,
                        )?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// A keyword that searches: a non-blank string.
fn searches(v: &ConstValue) -> bool {
    matches!(v, ConstValue::String(s) if !s.trim().is_empty())
}

/// A `keyword` field with a search in it, anywhere in an input object.
fn has_keyword(v: &ConstValue, nesting: usize) -> bool {
    nesting <= MAX_VALUE_NESTING
        && match v {
            ConstValue::Object(fields) => fields
                .iter()
                .any(|(k, v)| (k == "keyword" && searches(v)) || has_keyword(v, nesting + 1)),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(vars: &[(&str, &str)]) -> Guard {
        let map: HashMap<String, String> = [("JWT_SECRET", "0123456789abcdef0123456789abcdef")]
            .iter()
            .chain(vars)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let settings = Settings::from_lookup(|k| map.get(k).cloned()).unwrap();
        Guard::new(&super::super::sdl(), &settings)
    }

    fn cost(g: &Guard, query: &str) -> Result<u64, AppError> {
        g.check(&mut Request::new(query)).map(|p| p.cost)
    }

    #[test]
    fn page_sizes_multiply_what_is_under_them() {
        let g = guard(&[("MAX_QUERY_COMPLEXITY", "1000000")]);
        // products + nodes + id + title, the last three per item.
        assert_eq!(
            cost(&g, "{ products(first: 10) { nodes { id title } } }").unwrap(),
            1 + 10 * 3
        );
        // Omitted: the page size the resolver uses (20); totalCount once, not per item.
        assert_eq!(
            cost(&g, "{ products { totalCount nodes { id } } }").unwrap(),
            1 + (1 + 50) + 20 * 2
        );
        assert_eq!(cost(&g, "{ hotProducts { id } }").unwrap(), 1 + 10);
        assert_eq!(
            cost(&g, "{ hotProducts(limit: 3) { id skus { id } } }").unwrap(),
            1 + 3 * 3
        );
        // Aliases count each time.
        assert_eq!(
            cost(
                &g,
                "{ a: hotProducts(limit: 3) { id } b: hotProducts(limit: 3) { id } }"
            )
            .unwrap(),
            8
        );
        // A keyword search costs extra.
        assert_eq!(
            cost(
                &g,
                r#"{ products(first: 1, keyword: "茶") { nodes { id } } }"#
            )
            .unwrap(),
            1 + 50 + 2
        );
        assert_eq!(
            cost(
                &g,
                r#"{ products(first: 1, keyword: " ") { nodes { id } } }"#
            )
            .unwrap(),
            1 + 2
        );
        // Variables count as given.
        let mut r = Request::new("query($n: Int) { products(first: $n) { nodes { id } } }")
            .variables(async_graphql::Variables::from_json(
                serde_json::json!({ "n": 100 }),
            ));
        assert_eq!(g.check(&mut r).unwrap().cost, 1 + 100 * 2);
    }

    #[test]
    fn fragments_are_measured_once_and_cycles_refused() {
        let g = guard(&[]);
        let mut bomb = String::from("{ ...F40 } fragment F0 on Query { __typename }");
        for i in 1..=40 {
            bomb.push_str(&format!(
                " fragment F{i} on Query {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        let started = std::time::Instant::now();
        assert_eq!(cost(&g, &bomb).unwrap_err().code(), "QUERY_TOO_COMPLEX");
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(cost(&g, cycle).unwrap_err().code(), "BAD_USER_INPUT");
        // An unused fragment is walked by validation too, so it counts as well.
        let unused = bomb.replacen("{ ...F40 }", "{ __typename }", 1);
        assert_eq!(cost(&g, &unused).unwrap_err().code(), "QUERY_TOO_COMPLEX");
    }

    #[test]
    fn depth_and_introspection() {
        let g = guard(&[("MAX_QUERY_DEPTH", "3")]);
        assert!(cost(&g, "{ me { referrer { id } } }").is_ok());
        let deep = "{ me { referrer { referrer { id } } } }";
        assert_eq!(cost(&g, deep).unwrap_err().code(), "QUERY_TOO_COMPLEX");
        let through_fragment =
            "{ me { ...R } } fragment R on Customer { referrer { referrer { id } } }";
        assert_eq!(
            cost(&g, through_fragment).unwrap_err().code(),
            "QUERY_TOO_COMPLEX"
        );
        // Introspection may go deeper, but its lists may not multiply.
        let types = "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }";
        assert!(cost(&g, types).is_ok());
        let multiplying =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert_eq!(
            cost(&g, multiplying).unwrap_err().code(),
            "QUERY_TOO_COMPLEX"
        );
        // Not when introspection is off, nor for a query that also reads data.
        let off = guard(&[("MAX_QUERY_DEPTH", "3"), ("INTROSPECTION", "false")]);
        assert_eq!(cost(&off, types).unwrap_err().code(), "QUERY_TOO_COMPLEX");
        let mixed = "{ me { id } __schema { types { fields { type { name } } } } }";
        assert_eq!(cost(&g, mixed).unwrap_err().code(), "QUERY_TOO_COMPLEX");
    }

    #[test]
    fn lists_are_bounded_and_named() {
        let g = guard(&[]);
        let ids: Vec<String> = (0..101).map(|i| i.to_string()).collect();
        let mut r =
            Request::new("mutation($ids: [ID!]!) { removeFromCart(skuIds: $ids) { __typename } }")
                .variables(async_graphql::Variables::from_json(
                    serde_json::json!({ "ids": ids }),
                ));
        let err = g.check(&mut r).unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
        assert!(err.to_string().starts_with("skuIds: at most 100"), "{err}");
        let specs: Vec<String> = (0..6)
            .map(|i| format!("{{ name: \"n{i}\", value: \"v\" }}"))
            .collect();
        let q = format!(
            "mutation {{ createProduct(input: {{ title: \"t\", categoryId: \"1\", skus: [{{ priceFen: 1, stock: 1, specs: [] }}, {{ priceFen: 1, stock: 1, specs: [{}] }}] }}) {{ id }} }}",
            specs.join(", ")
        );
        let err = cost(&g, &q).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("input.skus[1].specs: at most 5"),
            "{err}"
        );
    }

    /// Every list argument and list input field of the schema has its limit
    /// in `validate::LIST_LIMITS`, and every entry there is one of them.
    #[test]
    fn every_list_in_the_schema_is_bounded() {
        let g = guard(&[]);
        let mut lists = HashSet::new();
        for (ty, fields) in &g.outputs {
            for (field, shape) in fields {
                for (arg, t) in &shape.args {
                    if matches!(t.base, BaseType::List(_)) {
                        lists.insert(format!("{ty}.{field}({arg}:)"));
                    }
                }
            }
        }
        for (ty, fields) in &g.inputs {
            for (field, t) in fields {
                if matches!(t.base, BaseType::List(_)) {
                    lists.insert(format!("{ty}.{field}"));
                }
            }
        }
        let listed: HashSet<String> = validate::LIST_LIMITS
            .iter()
            .map(|(c, _)| c.to_string())
            .collect();
        let mut missing: Vec<_> = lists.difference(&listed).collect();
        missing.sort();
        let mut stale: Vec<_> = listed.difference(&lists).collect();
        stale.sort();
        assert!(
            missing.is_empty() && stale.is_empty(),
            "not in LIST_LIMITS: {missing:?}; not in the schema: {stale:?}"
        );
    }
}
