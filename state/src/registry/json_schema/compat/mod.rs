//! Whether a JSON Schema reader can read what a writer schema allows: Confluent's rules,
//! written afresh. The two schemas are walked side by side (writer as Confluent's
//! "original", reader as its "update"), each difference gets Confluent's name and a JSON
//! pointer into the schema, and the differences outside Confluent's compatible set are
//! the incompatibilities, e.g. `#/properties/total: TYPE_NARROWED`.
//!
//! Checked (Confluent's `Difference.Type` names):
//! - types: `TYPE_CHANGED`; `integer`→`number` `TYPE_EXTENDED` (compatible), the reverse
//!   `TYPE_NARROWED`; a `type` list is a union (`anyOf`) of single types; a reader union
//!   containing the writer's type is `SUM_TYPE_EXTENDED`; `true`/`{}` readers accept any
//!   writer and a `false` writer fits any reader;
//! - strings: `MAX_LENGTH_*`, `MIN_LENGTH_*`, `PATTERN_ADDED/REMOVED/CHANGED`;
//! - numbers: `MAXIMUM_*`, `MINIMUM_*`, `EXCLUSIVE_MAXIMUM_*`, `EXCLUSIVE_MINIMUM_*` (the
//!   numeric forms), `MULTIPLE_OF_ADDED/REMOVED/EXPANDED/REDUCED/CHANGED`;
//! - enums and `const`: `ENUM_ARRAY_EXTENDED` (compatible), `_NARROWED`, `_CHANGED`;
//! - objects: `REQUIRED_ATTRIBUTE_ADDED` (and `_WITH_DEFAULT_ADDED`, `_REMOVED`),
//!   properties added or removed under open, closed (`additionalProperties: false`) and
//!   partially open (`patternProperties`, an `additionalProperties` schema) content models
//!   (`PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`, `REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL`,
//!   `PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL`, the `_COVERED_BY_PARTIALLY_OPEN_` pair
//!   ...), `ADDITIONAL_PROPERTIES_*`, `DEPENDENCY_ARRAY_*`, `DEPENDENCY_SCHEMA_*`
//!   (`dependencies`, `dependentRequired`, `dependentSchemas`), `MAX/MIN_PROPERTIES_*`;
//! - arrays: `items` (one schema; `SCHEMA_ADDED`/`SCHEMA_REMOVED`), tuples (`items` lists,
//!   `prefixItems`) with the `ITEM_*_CONTENT_MODEL` rules, `ADDITIONAL_ITEMS_*`,
//!   `MAX/MIN_ITEMS_*`, `UNIQUE_ITEMS_ADDED/REMOVED`;
//! - `allOf`/`anyOf`/`oneOf`: `COMBINED_TYPE_EXTENDED/CHANGED`, `SUM_TYPE_*`,
//!   `PRODUCT_TYPE_*`, and `COMBINED_TYPE_SUBSCHEMAS_CHANGED` when no one-to-one pairing of
//!   compatible subschemas covers the smaller side; `not` (`NOT_TYPE_*`);
//! - `$ref`s are followed (inside the document, and into referenced schemas), each pair of
//!   schemas once per path so recursive schemas end.
//!
//! Not checked: `ID/TITLE/DESCRIPTION/DEFAULT_CHANGED` (all compatible, so never
//! reported), `unevaluatedProperties`/`unevaluatedItems`, `contains`/`minContains`/
//! `maxContains`, `propertyNames`, `if`/`then`/`else`, `format`, draft-4 boolean
//! `exclusiveMaximum`, and the metadata rules (`RESERVED_PROPERTY_*`). A schema that mixes
//! `type`/`enum` with a combinator is compared as the `allOf` of its parts, and an `enum`
//! beside a `type` as the enum alone.

mod containers;
mod shape;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::{JsonSchema, sorted};
use containers::{arrays, objects};
use shape::{Shape, Side, Type, resolve, shape};

/// Confluent's compatible differences: everything else is an incompatibility.
const COMPATIBLE: &[&str] = &[
    "ID_CHANGED",
    "DESCRIPTION_CHANGED",
    "TITLE_CHANGED",
    "DEFAULT_CHANGED",
    "SCHEMA_REMOVED",
    "TYPE_EXTENDED",
    "MAX_LENGTH_INCREASED",
    "MAX_LENGTH_REMOVED",
    "MIN_LENGTH_DECREASED",
    "MIN_LENGTH_REMOVED",
    "PATTERN_REMOVED",
    "MAXIMUM_INCREASED",
    "MAXIMUM_REMOVED",
    "MINIMUM_DECREASED",
    "MINIMUM_REMOVED",
    "EXCLUSIVE_MAXIMUM_INCREASED",
    "EXCLUSIVE_MAXIMUM_REMOVED",
    "EXCLUSIVE_MINIMUM_DECREASED",
    "EXCLUSIVE_MINIMUM_REMOVED",
    "MULTIPLE_OF_REDUCED",
    "MULTIPLE_OF_REMOVED",
    "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
    "REQUIRED_ATTRIBUTE_REMOVED",
    "DEPENDENCY_ARRAY_NARROWED",
    "DEPENDENCY_ARRAY_REMOVED",
    "DEPENDENCY_SCHEMA_REMOVED",
    "MAX_PROPERTIES_INCREASED",
    "MAX_PROPERTIES_REMOVED",
    "MIN_PROPERTIES_DECREASED",
    "MIN_PROPERTIES_REMOVED",
    "ADDITIONAL_PROPERTIES_ADDED",
    "ADDITIONAL_PROPERTIES_EXTENDED",
    "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "MAX_ITEMS_INCREASED",
    "MAX_ITEMS_REMOVED",
    "MIN_ITEMS_DECREASED",
    "MIN_ITEMS_REMOVED",
    "UNIQUE_ITEMS_REMOVED",
    "ADDITIONAL_ITEMS_ADDED",
    "ADDITIONAL_ITEMS_EXTENDED",
    "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
    "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
    "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "ENUM_ARRAY_EXTENDED",
    "COMBINED_TYPE_EXTENDED",
    "PRODUCT_TYPE_NARROWED",
    "SUM_TYPE_EXTENDED",
    "NOT_TYPE_NARROWED",
];

/// Deeper than this the walk stops: only absurd schemas get there.
const MAX_DEPTH: usize = 64;

/// Why data valid under `writer` may not be valid under `reader`.
pub(super) fn incompatibilities(writer: &JsonSchema, reader: &JsonSchema) -> Vec<String> {
    let (w_root, w_refs) = writer.documents();
    let (r_root, r_refs) = reader.documents();
    let w = Side {
        doc: w_root,
        refs: w_refs,
    };
    let r = Side {
        doc: r_root,
        refs: r_refs,
    };
    let mut ctx = Ctx::default();
    compare(&mut ctx, w, w_root, r, r_root);
    ctx.diffs
        .into_iter()
        .filter(|(_, kind)| !COMPATIBLE.contains(&kind.as_str()))
        .map(|(path, kind)| format!("{path}: {kind}"))
        .collect()
}

/// Where the walk is, what it found, and the schema pairs it is inside (for recursion).
#[derive(Default)]
struct Ctx {
    path: Vec<String>,
    diffs: Vec<(String, String)>,
    active: HashSet<(usize, usize)>,
}

impl Ctx {
    fn add(&mut self, kind: impl Into<String>) {
        let pointer = format!("#/{}", self.path.join("/"));
        self.diffs.push((pointer, kind.into()));
    }

    fn add_at(&mut self, segment: &str, kind: impl Into<String>) {
        self.path.push(segment.to_string());
        self.add(kind);
        self.path.pop();
    }

    /// A context for a trial comparison whose differences may be dropped.
    fn trial(&self) -> Ctx {
        Ctx {
            path: self.path.clone(),
            diffs: Vec::new(),
            active: self.active.clone(),
        }
    }

    fn compatible(&self) -> bool {
        self.diffs
            .iter()
            .all(|(_, kind)| COMPATIBLE.contains(&kind.as_str()))
    }

    fn absorb(&mut self, trial: Ctx) {
        self.diffs.extend(trial.diffs);
    }
}

fn compare(ctx: &mut Ctx, ws: Side<'_>, w: &Value, rs: Side<'_>, r: &Value) {
    let (ws, w) = resolve(ws, w);
    let (rs, r) = resolve(rs, r);
    let pair = (w as *const Value as usize, r as *const Value as usize);
    if ctx.path.len() > MAX_DEPTH || !ctx.active.insert(pair) {
        return;
    }
    compare_resolved(ctx, ws, w, rs, r);
    ctx.active.remove(&pair);
}

fn compare_resolved(ctx: &mut Ctx, ws: Side<'_>, w: &Value, rs: Side<'_>, r: &Value) {
    let (w_shape, r_shape) = (shape(w), shape(r));
    match (&w_shape, &r_shape) {
        (Shape::Combined(..), Shape::Combined(..)) => {}
        (_, Shape::Combined(criterion, subs)) => {
            if subs.len() == 1 {
                let mut trial = ctx.trial();
                compare(&mut trial, ws, w, rs, &subs[0]);
                if trial.compatible() {
                    return ctx.absorb(trial);
                }
            } else if *criterion != "allOf" {
                for sub in subs {
                    let mut trial = ctx.trial();
                    compare(&mut trial, ws, w, rs, sub);
                    if trial.compatible() {
                        ctx.absorb(trial);
                        return ctx.add("SUM_TYPE_EXTENDED");
                    }
                }
            }
        }
        (Shape::Combined(_, subs), _) if subs.len() == 1 => {
            let mut trial = ctx.trial();
            compare(&mut trial, ws, &subs[0], rs, r);
            if trial.compatible() {
                return ctx.absorb(trial);
            }
        }
        _ => {}
    }
    if w_shape.class() != r_shape.class() {
        if !matches!(w_shape, Shape::False) && !matches!(r_shape, Shape::Empty) {
            ctx.add("TYPE_CHANGED");
        }
        return;
    }
    match (w_shape, r_shape) {
        (Shape::Typed(t, wm, w_int), Shape::Typed(_, rm, r_int)) => match t {
            Type::String => strings(ctx, wm, rm),
            Type::Number => numbers(ctx, wm, w_int, rm, r_int),
            Type::Object => objects(ctx, ws, wm, rs, rm),
            Type::Array => arrays(ctx, ws, wm, rs, rm),
            Type::Boolean | Type::Null => {}
        },
        (Shape::Enum(wv), Shape::Enum(rv)) => enums(ctx, &wv, &rv),
        (Shape::Combined(wc, wsubs), Shape::Combined(rc, rsubs)) => {
            combined(ctx, ws, wc, &wsubs, rs, rc, &rsubs)
        }
        (Shape::Not(wn), Shape::Not(rn)) => {
            // `not` inverts: the reader's excluded set must lie within the writer's.
            let mut trial = ctx.trial();
            trial.path.push("not".into());
            compare(&mut trial, rs, rn, ws, wn);
            if !trial.compatible() {
                ctx.add("NOT_TYPE_EXTENDED");
            } else if !trial.diffs.is_empty() {
                ctx.add("NOT_TYPE_NARROWED");
            }
        }
        _ => {}
    }
}

/// A numeric keyword's change, named `{PREFIX}_ADDED/REMOVED/INCREASED/DECREASED`.
fn limit(
    ctx: &mut Ctx,
    keyword: &str,
    prefix: &str,
    w: &Map<String, Value>,
    r: &Map<String, Value>,
) {
    let (w, r) = (
        w.get(keyword).and_then(Value::as_f64),
        r.get(keyword).and_then(Value::as_f64),
    );
    let change = match (w, r) {
        (None, Some(_)) => "ADDED",
        (Some(_), None) => "REMOVED",
        (Some(w), Some(r)) if w < r => "INCREASED",
        (Some(w), Some(r)) if w > r => "DECREASED",
        _ => return,
    };
    ctx.add_at(keyword, format!("{prefix}_{change}"));
}

fn strings(ctx: &mut Ctx, w: &Map<String, Value>, r: &Map<String, Value>) {
    limit(ctx, "maxLength", "MAX_LENGTH", w, r);
    limit(ctx, "minLength", "MIN_LENGTH", w, r);
    match (w.get("pattern"), r.get("pattern")) {
        (None, Some(_)) => ctx.add_at("pattern", "PATTERN_ADDED"),
        (Some(_), None) => ctx.add_at("pattern", "PATTERN_REMOVED"),
        (Some(a), Some(b)) if a != b => ctx.add_at("pattern", "PATTERN_CHANGED"),
        _ => {}
    }
}

fn numbers(
    ctx: &mut Ctx,
    w: &Map<String, Value>,
    w_int: bool,
    r: &Map<String, Value>,
    r_int: bool,
) {
    limit(ctx, "maximum", "MAXIMUM", w, r);
    limit(ctx, "minimum", "MINIMUM", w, r);
    limit(ctx, "exclusiveMaximum", "EXCLUSIVE_MAXIMUM", w, r);
    limit(ctx, "exclusiveMinimum", "EXCLUSIVE_MINIMUM", w, r);
    let multiple = |m: &Map<String, Value>| m.get("multipleOf").and_then(Value::as_f64);
    let divides = |a: f64, b: f64| b != 0.0 && ((a / b) - (a / b).round()).abs() < 1e-9;
    let change = match (multiple(w), multiple(r)) {
        (None, Some(_)) => Some("MULTIPLE_OF_ADDED"),
        (Some(_), None) => Some("MULTIPLE_OF_REMOVED"),
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) if divides(b, a) => Some("MULTIPLE_OF_EXPANDED"),
        (Some(a), Some(b)) if divides(a, b) => Some("MULTIPLE_OF_REDUCED"),
        (Some(_), Some(_)) => Some("MULTIPLE_OF_CHANGED"),
        (None, None) => None,
    };
    if let Some(change) = change {
        ctx.add_at("multipleOf", change);
    }
    match (w_int, r_int) {
        (true, false) => ctx.add("TYPE_EXTENDED"),
        (false, true) => ctx.add("TYPE_NARROWED"),
        _ => {}
    }
}

fn enums(ctx: &mut Ctx, w: &[&Value], r: &[&Value]) {
    let set = |values: &[&Value]| -> BTreeSet<String> {
        values.iter().map(|v| sorted(v).to_string()).collect()
    };
    let (w, r) = (set(w), set(r));
    if w == r {
        return;
    }
    ctx.add(if w.is_subset(&r) {
        "ENUM_ARRAY_EXTENDED"
    } else if r.is_subset(&w) {
        "ENUM_ARRAY_NARROWED"
    } else {
        "ENUM_ARRAY_CHANGED"
    });
}

#[allow(clippy::too_many_arguments)]
fn combined(
    ctx: &mut Ctx,
    ws: Side<'_>,
    w_criterion: &str,
    w_subs: &[Cow<'_, Value>],
    rs: Side<'_>,
    r_criterion: &str,
    r_subs: &[Cow<'_, Value>],
) {
    if w_criterion != r_criterion {
        let extended = match r_criterion {
            "anyOf" => true,
            "oneOf" => w_subs.len() == 1,
            _ => w_subs.len() == 1 && r_subs.len() == 1,
        };
        if !extended {
            return ctx.add("COMBINED_TYPE_CHANGED");
        }
        ctx.add("COMBINED_TYPE_EXTENDED");
    }
    let w_subs = distinct(w_subs);
    let r_subs = distinct(r_subs);
    let product = r_criterion == "allOf";
    if w_subs.len() < r_subs.len() {
        ctx.add(if product {
            "PRODUCT_TYPE_EXTENDED"
        } else {
            "SUM_TYPE_EXTENDED"
        });
    } else if w_subs.len() > r_subs.len() {
        ctx.add(if product {
            "PRODUCT_TYPE_NARROWED"
        } else {
            "SUM_TYPE_NARROWED"
        });
    }
    // Which writer subschema each reader subschema can stand for, and what that costs.
    let mut edges: Vec<Vec<Option<Ctx>>> = Vec::new();
    for (i, w_sub) in w_subs.iter().enumerate() {
        let mut row = Vec::new();
        for r_sub in &r_subs {
            let mut trial = ctx.trial();
            trial.path.push(format!("{w_criterion}/{i}"));
            compare(&mut trial, ws, w_sub, rs, r_sub);
            row.push(trial.compatible().then_some(trial));
        }
        edges.push(row);
    }
    let matching = max_matching(
        &edges
            .iter()
            .map(|row| row.iter().map(Option::is_some).collect())
            .collect::<Vec<Vec<bool>>>(),
    );
    let matched = matching.iter().flatten().count();
    for (j, i) in matching.into_iter().enumerate() {
        if let Some(trial) = i.and_then(|i| edges[i][j].take()) {
            ctx.absorb(trial);
        }
    }
    if matched < w_subs.len().min(r_subs.len()) {
        ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED");
    }
}

fn distinct<'v>(subs: &'v [Cow<'_, Value>]) -> Vec<&'v Value> {
    let mut seen = HashSet::new();
    subs.iter()
        .map(|s| s.as_ref())
        .filter(|s| seen.insert(sorted(s).to_string()))
        .collect()
}

/// A maximum bipartite matching (augmenting paths): for each right node, its left node.
fn max_matching(edges: &[Vec<bool>]) -> Vec<Option<usize>> {
    let rights = edges.first().map_or(0, Vec::len);
    let mut owner: Vec<Option<usize>> = vec![None; rights];
    fn augment(
        left: usize,
        edges: &[Vec<bool>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for right in 0..owner.len() {
            if edges[left][right] && !seen[right] {
                seen[right] = true;
                if owner[right].is_none_or(|other| augment(other, edges, seen, owner)) {
                    owner[right] = Some(left);
                    return true;
                }
            }
        }
        false
    }
    for left in 0..edges.len() {
        augment(left, edges, &mut vec![false; rights], &mut owner);
    }
    owner
}
