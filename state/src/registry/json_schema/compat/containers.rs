//! The compatibility rules for objects (properties under open, closed and partially open
//! content models, `required`, dependencies) and arrays (item schemas and tuples).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::shape::{Shape, Side, is_empty_schema, resolve, shape};
use super::{Ctx, compare, limit};

fn properties(m: &Map<String, Value>) -> BTreeMap<&str, &Value> {
    m.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.as_str(), v)).collect())
        .unwrap_or_default()
}

fn required(m: &Map<String, Value>) -> BTreeSet<&str> {
    m.get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Open: any property may appear with any value.
fn open_properties(m: &Map<String, Value>) -> bool {
    let no_patterns = m
        .get("patternProperties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    no_patterns
        && matches!(
            m.get("additionalProperties"),
            None | Some(Value::Bool(true))
        )
}

/// The schema a partially open model gives an undeclared property.
fn partial_property<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    let patterns = m.get("patternProperties").and_then(Value::as_object);
    patterns
        .into_iter()
        .flatten()
        .find(|(pattern, _)| regex::Regex::new(pattern).is_ok_and(|re| re.is_match(key)))
        .map(|(_, schema)| schema)
        .or_else(|| m.get("additionalProperties").filter(|a| a.is_object()))
}

fn has_default(side: Side<'_>, schema: &Value) -> bool {
    resolve(side, schema).1.get("default").is_some()
}

pub(super) fn objects(
    ctx: &mut Ctx,
    ws: Side<'_>,
    w: &Map<String, Value>,
    rs: Side<'_>,
    r: &Map<String, Value>,
) {
    let (w_props, r_props) = (properties(w), properties(r));
    let (w_req, r_req) = (required(w), required(r));
    ctx.path.push("required".into());
    for key in w_props.keys().filter(|k| r_props.contains_key(*k)) {
        match (w_req.contains(key), r_req.contains(key)) {
            (true, false) => ctx.add_at(key, "REQUIRED_ATTRIBUTE_REMOVED"),
            (false, true) if has_default(rs, r_props[key]) => {
                ctx.add_at(key, "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED")
            }
            (false, true) => ctx.add_at(key, "REQUIRED_ATTRIBUTE_ADDED"),
            _ => {}
        }
    }
    ctx.path.pop();
    ctx.path.push("properties".into());
    let keys: BTreeSet<&str> = w_props.keys().chain(r_props.keys()).copied().collect();
    for key in keys {
        ctx.path.push(key.to_string());
        match (w_props.get(key), r_props.get(key)) {
            (Some(w_prop), None) => property_removed(ctx, ws, w_prop, rs, r, key),
            (None, Some(r_prop)) => {
                property_added(ctx, ws, w, rs, r_prop, r_req.contains(key), key)
            }
            (Some(w_prop), Some(r_prop)) => compare(ctx, ws, w_prop, rs, r_prop),
            (None, None) => {}
        }
        ctx.path.pop();
    }
    ctx.path.pop();
    dependencies(ctx, ws, w, rs, r);
    ctx.path.push("additionalProperties".into());
    additional(
        ctx,
        "ADDITIONAL_PROPERTIES",
        ws,
        w.get("additionalProperties"),
        rs,
        r.get("additionalProperties"),
    );
    ctx.path.pop();
    limit(ctx, "maxProperties", "MAX_PROPERTIES", w, r);
    limit(ctx, "minProperties", "MIN_PROPERTIES", w, r);
}

fn property_removed(
    ctx: &mut Ctx,
    ws: Side<'_>,
    w_prop: &Value,
    rs: Side<'_>,
    r: &Map<String, Value>,
    key: &str,
) {
    if open_properties(r) {
        return ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL");
    }
    if let Some(partial) = partial_property(r, key) {
        let mut trial = ctx.trial();
        compare(&mut trial, ws, w_prop, rs, partial);
        let covered = trial.compatible();
        ctx.absorb(trial);
        return ctx.add(if covered {
            "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        } else {
            "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        });
    }
    ctx.add(if matches!(shape(resolve(ws, w_prop).1), Shape::False) {
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
    } else {
        "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
    });
}

#[allow(clippy::too_many_arguments)]
fn property_added(
    ctx: &mut Ctx,
    ws: Side<'_>,
    w: &Map<String, Value>,
    rs: Side<'_>,
    r_prop: &Value,
    r_requires: bool,
    key: &str,
) {
    if open_properties(w) {
        return ctx.add(if is_empty_schema(rs, r_prop) {
            "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
        } else {
            "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
        });
    }
    if let Some(partial) = partial_property(w, key) {
        let mut trial = ctx.trial();
        compare(&mut trial, ws, partial, rs, r_prop);
        let covered = trial.compatible();
        ctx.absorb(trial);
        ctx.add(if covered {
            "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        } else {
            "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        });
    }
    ctx.add(match (r_requires, has_default(rs, r_prop)) {
        (true, true) => "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        (true, false) => "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        (false, _) => "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    });
}

/// `additionalProperties` / `additionalItems`: absent or `true`, `false`, or a schema.
fn additional(
    ctx: &mut Ctx,
    prefix: &str,
    ws: Side<'_>,
    w: Option<&Value>,
    rs: Side<'_>,
    r: Option<&Value>,
) {
    let permits = |v: Option<&Value>| !matches!(v, Some(Value::Bool(false)));
    fn schema(v: Option<&Value>) -> Option<&Value> {
        v.filter(|v| v.is_object())
    }
    if permits(w) != permits(r) {
        ctx.add(format!(
            "{prefix}_{}",
            if permits(r) { "ADDED" } else { "REMOVED" }
        ));
        return;
    }
    match (schema(w), schema(r)) {
        (None, Some(_)) => ctx.add(format!("{prefix}_NARROWED")),
        (Some(_), None) => ctx.add(format!("{prefix}_EXTENDED")),
        (Some(w), Some(r)) => compare(ctx, ws, w, rs, r),
        (None, None) => {}
    }
}

/// Property dependencies (lists of names) and schema dependencies, by property.
type Dependencies<'m> = (
    BTreeMap<&'m str, BTreeSet<&'m str>>,
    BTreeMap<&'m str, &'m Value>,
);

fn dependencies_of(m: &Map<String, Value>) -> Dependencies<'_> {
    let (mut names, mut schemas) = (BTreeMap::new(), BTreeMap::new());
    for keyword in ["dependencies", "dependentRequired", "dependentSchemas"] {
        for (key, value) in m
            .get(keyword)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            match value {
                Value::Array(list) => {
                    names.insert(
                        key.as_str(),
                        list.iter().filter_map(Value::as_str).collect(),
                    );
                }
                schema => {
                    schemas.insert(key.as_str(), schema);
                }
            }
        }
    }
    (names, schemas)
}

fn dependencies(
    ctx: &mut Ctx,
    ws: Side<'_>,
    w: &Map<String, Value>,
    rs: Side<'_>,
    r: &Map<String, Value>,
) {
    let ((w_names, w_schemas), (r_names, r_schemas)) = (dependencies_of(w), dependencies_of(r));
    ctx.path.push("dependencies".into());
    let keys: BTreeSet<&str> = w_names.keys().chain(r_names.keys()).copied().collect();
    for key in keys {
        let kind = match (w_names.get(key), r_names.get(key)) {
            (Some(_), None) => "DEPENDENCY_ARRAY_REMOVED",
            (None, Some(_)) => "DEPENDENCY_ARRAY_ADDED",
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) if b.is_superset(a) => "DEPENDENCY_ARRAY_EXTENDED",
            (Some(a), Some(b)) if a.is_superset(b) => "DEPENDENCY_ARRAY_NARROWED",
            _ => "DEPENDENCY_ARRAY_CHANGED",
        };
        ctx.add_at(key, kind);
    }
    let keys: BTreeSet<&str> = w_schemas.keys().chain(r_schemas.keys()).copied().collect();
    for key in keys {
        match (w_schemas.get(key), r_schemas.get(key)) {
            (Some(_), None) => ctx.add_at(key, "DEPENDENCY_SCHEMA_REMOVED"),
            (None, Some(_)) => ctx.add_at(key, "DEPENDENCY_SCHEMA_ADDED"),
            (Some(a), Some(b)) => {
                ctx.path.push(key.to_string());
                compare(ctx, ws, a, rs, b);
                ctx.path.pop();
            }
            (None, None) => {}
        }
    }
    ctx.path.pop();
}

/// An array schema's item rules: a schema for all items, or a tuple and what follows it.
struct Items<'m> {
    all: Option<&'m Value>,
    tuple: &'m [Value],
    rest: Option<&'m Value>,
}

fn items_of(m: &Map<String, Value>) -> Items<'_> {
    match (m.get("prefixItems"), m.get("items")) {
        (Some(Value::Array(tuple)), rest) => Items {
            all: None,
            tuple,
            rest,
        },
        (_, Some(Value::Array(tuple))) => Items {
            all: None,
            tuple,
            rest: m.get("additionalItems"),
        },
        (_, all) => Items {
            all,
            tuple: &[],
            rest: m.get("additionalItems"),
        },
    }
}

pub(super) fn arrays(
    ctx: &mut Ctx,
    ws: Side<'_>,
    w: &Map<String, Value>,
    rs: Side<'_>,
    r: &Map<String, Value>,
) {
    let (w_items, r_items) = (items_of(w), items_of(r));
    ctx.path.push("items".into());
    match (w_items.all, r_items.all) {
        (Some(_), None) => ctx.add("SCHEMA_REMOVED"),
        (None, Some(_)) => ctx.add("SCHEMA_ADDED"),
        (Some(a), Some(b)) => compare(ctx, ws, a, rs, b),
        (None, None) => {}
    }
    ctx.path.pop();
    let open = |items: &Items<'_>| matches!(items.rest, None | Some(Value::Bool(true)));
    fn partial<'m>(items: &Items<'m>) -> Option<&'m Value> {
        items.rest.filter(|s| s.is_object())
    }
    let longest = w_items.tuple.len().max(r_items.tuple.len());
    for index in 0..longest {
        ctx.path.push(format!("items/{index}"));
        match (w_items.tuple.get(index), r_items.tuple.get(index)) {
            (Some(a), Some(b)) => compare(ctx, ws, a, rs, b),
            (Some(a), None) => {
                if open(&r_items) {
                    ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL");
                } else if let Some(p) = partial(&r_items) {
                    covered(ctx, ws, a, rs, p, "ITEM_REMOVED");
                } else if matches!(shape(resolve(ws, a).1), Shape::False) {
                    ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL");
                } else {
                    ctx.add("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL");
                }
            }
            (None, Some(b)) => {
                if open(&w_items) {
                    ctx.add(if is_empty_schema(rs, b) {
                        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
                    } else {
                        "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
                    });
                } else if let Some(p) = partial(&w_items) {
                    covered(ctx, ws, p, rs, b, "ITEM_ADDED");
                } else {
                    ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL");
                }
            }
            (None, None) => {}
        }
        ctx.path.pop();
    }
    if !w_items.tuple.is_empty() || !r_items.tuple.is_empty() {
        ctx.path.push("additionalItems".into());
        additional(ctx, "ADDITIONAL_ITEMS", ws, w_items.rest, rs, r_items.rest);
        ctx.path.pop();
    }
    limit(ctx, "maxItems", "MAX_ITEMS", w, r);
    limit(ctx, "minItems", "MIN_ITEMS", w, r);
    let unique = |m: &Map<String, Value>| m.get("uniqueItems") == Some(&Value::Bool(true));
    match (unique(w), unique(r)) {
        (true, false) => ctx.add_at("uniqueItems", "UNIQUE_ITEMS_REMOVED"),
        (false, true) => ctx.add_at("uniqueItems", "UNIQUE_ITEMS_ADDED"),
        _ => {}
    }
}

/// A tuple item meets a partially open model: `{what}_IS/NOT_COVERED_BY_...`.
fn covered(ctx: &mut Ctx, ws: Side<'_>, w: &Value, rs: Side<'_>, r: &Value, what: &str) {
    let mut trial = ctx.trial();
    compare(&mut trial, ws, w, rs, r);
    let ok = trial.compatible();
    ctx.absorb(trial);
    let verdict = if ok { "IS" } else { "NOT" };
    ctx.add(format!(
        "{what}_{verdict}_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
    ));
}
