//! Omitted variables leave their argument absent, so its default applies.
//!
//! GraphQL treats an argument (or input object field) whose value is a
//! variable the request did not provide as if it were not written at all:
//! the argument's default applies (spec, CoerceArgumentValues and
//! CoerceInputValues). async-graphql instead gives a nullable variable
//! without a default the value null, so `query($limit: Int) {
//! hotProducts(limit: $limit) { id } }` sent without `limit` fails against
//! `limit: Int! = 10` ("Expected input type Int, found null").
//!
//! The parsed document is rewritten before it runs, for every field at
//! once: such arguments and input fields are removed, then the definitions
//! of variables left unused (validation refuses unused variables). A
//! variable inside a list stays: there it means null, as the spec says.
use std::collections::{HashMap, HashSet};

use async_graphql::{
    Name, Positioned, Variables,
    parser::types::{
        Directive, DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition,
        Selection, SelectionSet,
    },
};
use async_graphql_value::Value;

/// Rewrites `doc` for the variables the request omitted. `operation` is the
/// name of the operation that runs (`None`: the document's only one).
pub fn drop_omitted(doc: &mut ExecutableDocument, operation: Option<&Name>, variables: &Variables) {
    let op = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), None) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op,
            None => return,
        },
        _ => return,
    };
    // Only nullable variables without a default: a non-null one that is
    // missing is an error async-graphql reports as it should.
    let omitted: HashSet<Name> = op
        .node
        .variable_definitions
        .iter()
        .map(|d| &d.node)
        .filter(|d| {
            d.var_type.node.nullable
                && d.default_value.is_none()
                && !variables.contains_key(&d.name.node)
        })
        .map(|d| d.name.node.clone())
        .collect();
    if omitted.is_empty() {
        return;
    }
    for fragment in doc.fragments.values_mut() {
        strip_set(&mut fragment.node.selection_set.node, &omitted);
    }
    let ops: Vec<&mut Positioned<OperationDefinition>> = match &mut doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values_mut().collect(),
    };
    for op in ops {
        strip_set(&mut op.node.selection_set.node, &omitted);
        let mut used = HashSet::new();
        let mut seen = HashSet::new();
        uses_in_set(
            &op.node.selection_set.node,
            &doc.fragments,
            &mut seen,
            &mut used,
        );
        uses_in_directives(&op.node.directives, &mut used);
        op.node
            .variable_definitions
            .retain(|d| !omitted.contains(&d.node.name.node) || used.contains(&d.node.name.node));
    }
}

fn is_omitted(v: &Value, omitted: &HashSet<Name>) -> bool {
    matches!(v, Value::Variable(name) if omitted.contains(name))
}

fn strip_set(set: &mut SelectionSet, omitted: &HashSet<Name>) {
    for item in &mut set.items {
        match &mut item.node {
            Selection::Field(f) => {
                f.node
                    .arguments
                    .retain(|(_, v)| !is_omitted(&v.node, omitted));
                for (_, v) in &mut f.node.arguments {
                    strip_value(&mut v.node, omitted);
                }
                strip_set(&mut f.node.selection_set.node, omitted);
            }
            Selection::InlineFragment(i) => strip_set(&mut i.node.selection_set.node, omitted),
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn strip_value(v: &mut Value, omitted: &HashSet<Name>) {
    match v {
        Value::Object(fields) => {
            fields.retain(|_, v| !is_omitted(v, omitted));
            for v in fields.values_mut() {
                strip_value(v, omitted);
            }
        }
        Value::List(items) => items.iter_mut().for_each(|v| strip_value(v, omitted)),
        _ => {}
    }
}

/// Variables used under `set`, through the fragments it spreads.
fn uses_in_set<'d>(
    set: &'d SelectionSet,
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    seen: &mut HashSet<&'d Name>,
    used: &mut HashSet<Name>,
) {
    for item in &set.items {
        uses_in_directives(item.node.directives(), used);
        match &item.node {
            Selection::Field(f) => {
                for (_, v) in &f.node.arguments {
                    uses_in_value(&v.node, used);
                }
                uses_in_set(&f.node.selection_set.node, fragments, seen, used);
            }
            Selection::InlineFragment(i) => {
                uses_in_set(&i.node.selection_set.node, fragments, seen, used)
            }
            Selection::FragmentSpread(sp) => {
                let name = &sp.node.fragment_name.node;
                if let Some(fragment) = fragments.get(name)
                    && seen.insert(name)
                {
                    uses_in_directives(&fragment.node.directives, used);
                    uses_in_set(&fragment.node.selection_set.node, fragments, seen, used);
                }
            }
        }
    }
}

fn uses_in_directives(directives: &[Positioned<Directive>], used: &mut HashSet<Name>) {
    for d in directives {
        for (_, v) in &d.node.arguments {
            uses_in_value(&v.node, used);
        }
    }
}

fn uses_in_value(v: &Value, used: &mut HashSet<Name>) {
    match v {
        Value::Variable(name) => {
            used.insert(name.clone());
        }
        Value::List(items) => items.iter().for_each(|v| uses_in_value(v, used)),
        Value::Object(fields) => fields.values().for_each(|v| uses_in_value(v, used)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn rewrite(query: &str, vars: serde_json::Value) -> ExecutableDocument {
        let mut doc = parse_query(query).unwrap();
        let name = match &doc.operations {
            DocumentOperations::Single(_) => None,
            DocumentOperations::Multiple(ops) => ops.keys().next().cloned(),
        };
        drop_omitted(&mut doc, name.as_ref(), &Variables::from_json(vars));
        doc
    }

    fn args_of_first_field(doc: &ExecutableDocument) -> Vec<String> {
        let (_, op) = doc.operations.iter().next().unwrap();
        let Selection::Field(f) = &op.node.selection_set.node.items[0].node else {
            panic!("a field first")
        };
        f.node
            .arguments
            .iter()
            .map(|(n, v)| format!("{}={}", n.node, v.node))
            .collect()
    }

    #[test]
    fn an_omitted_variable_leaves_its_argument_out() {
        let doc = rewrite(
            "query($limit: Int) { hotProducts(limit: $limit) { id } }",
            serde_json::json!({}),
        );
        assert!(args_of_first_field(&doc).is_empty());
        let (_, op) = doc.operations.iter().next().unwrap();
        assert!(
            op.node.variable_definitions.is_empty(),
            "unused now, so not defined"
        );
    }

    #[test]
    fn provided_defaulted_and_non_null_variables_stay() {
        let q = "query($a: Int, $b: Int = 3, $c: Int!) { f(a: $a, b: $b, c: $c) }";
        let doc = rewrite(q, serde_json::json!({ "a": null }));
        assert_eq!(args_of_first_field(&doc), ["a=$a", "b=$b", "c=$c"]);
    }

    #[test]
    fn input_fields_go_and_list_items_stay() {
        let q = "query Q($k: String, $t: String) { f(filter: { keyword: $k, tags: [$t], n: 1 }) g(x: $t) }";
        let doc = rewrite(q, serde_json::json!({}));
        assert_eq!(args_of_first_field(&doc), ["filter={tags: [$t], n: 1}"]);
        let (_, op) = doc.operations.iter().next().unwrap();
        let defined: Vec<&str> = op
            .node
            .variable_definitions
            .iter()
            .map(|d| d.node.name.node.as_str())
            .collect();
        assert_eq!(defined, ["t"], "$t is still used in the list");
    }

    #[test]
    fn fragments_are_rewritten_too() {
        let q = "query Q($n: Int) { ...F } fragment F on Query { hotProducts(limit: $n) { id } }";
        let doc = rewrite(q, serde_json::json!({}));
        let f = &doc.fragments[&Name::new("F")].node.selection_set.node.items[0].node;
        let Selection::Field(f) = f else { panic!() };
        assert!(f.node.arguments.is_empty());
        let (_, op) = doc.operations.iter().next().unwrap();
        assert!(op.node.variable_definitions.is_empty());
    }
}
