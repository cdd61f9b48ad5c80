//! What a JSON schema is, for the compatibility walk: Confluent's (everit's) schema
//! classes read off a schema's keywords, and `$ref`s followed to what they name.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::super::find_reference;
use super::MAX_DEPTH;

/// Keywords that make a schema one of object, array, string or number without `type`.
const KEYWORDS_BY_TYPE: [(Type, &[&str]); 4] = [
    (
        Type::Object,
        &[
            "properties",
            "required",
            "additionalProperties",
            "patternProperties",
            "dependencies",
            "dependentRequired",
            "dependentSchemas",
            "minProperties",
            "maxProperties",
        ],
    ),
    (
        Type::Array,
        &[
            "items",
            "prefixItems",
            "additionalItems",
            "minItems",
            "maxItems",
            "uniqueItems",
        ],
    ),
    (Type::String, &["minLength", "maxLength", "pattern"]),
    (
        Type::Number,
        &[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ],
    ),
];

const COMBINATORS: [&str; 4] = ["allOf", "anyOf", "oneOf", "not"];

/// The document a schema sits in (for `#` pointers) and the references it may follow.
#[derive(Clone, Copy)]
pub(super) struct Side<'a> {
    pub(super) doc: &'a Value,
    pub(super) refs: &'a BTreeMap<String, Value>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Type {
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// What a schema is, for comparing: Confluent's (everit's) schema classes.
pub(super) enum Shape<'a> {
    /// Accepts everything (`true`, `{}`, annotations only).
    Empty,
    False,
    Combined(&'static str, Vec<Cow<'a, Value>>),
    Not(&'a Value),
    Enum(Vec<&'a Value>),
    /// A typed schema; the flag is `integer` for numbers.
    Typed(Type, &'a Map<String, Value>, bool),
}

impl Shape<'_> {
    pub(super) fn class(&self) -> (u8, Option<Type>) {
        match self {
            Shape::Empty => (0, None),
            Shape::False => (1, None),
            Shape::Combined(..) => (2, None),
            Shape::Not(_) => (3, None),
            Shape::Enum(_) => (4, None),
            Shape::Typed(t, ..) => (5, Some(*t)),
        }
    }
}

fn type_named(name: &str) -> Option<(Type, bool)> {
    Some(match name {
        "object" => (Type::Object, false),
        "array" => (Type::Array, false),
        "string" => (Type::String, false),
        "number" => (Type::Number, false),
        "integer" => (Type::Number, true),
        "boolean" => (Type::Boolean, false),
        "null" => (Type::Null, false),
        _ => return None,
    })
}

pub(super) fn shape(schema: &Value) -> Shape<'_> {
    let map = match schema {
        Value::Bool(false) => return Shape::False,
        Value::Object(map) => map,
        _ => return Shape::Empty,
    };
    let combinators: Vec<&str> = COMBINATORS
        .into_iter()
        .filter(|k| map.contains_key(*k))
        .collect();
    let typed = ["type", "enum", "const"]
        .iter()
        .any(|k| map.contains_key(*k))
        || KEYWORDS_BY_TYPE
            .iter()
            .any(|(_, ks)| ks.iter().any(|k| map.contains_key(*k)));
    if let [single] = combinators[..]
        && !typed
    {
        return match (single, &map[single]) {
            ("not", not) => Shape::Not(not),
            (name, Value::Array(subs)) => {
                Shape::Combined(name_of(name), subs.iter().map(Cow::Borrowed).collect())
            }
            _ => Shape::Empty,
        };
    }
    if !combinators.is_empty() {
        // Several parts hold at once: compare them as their conjunction.
        let mut parts = Vec::new();
        if typed {
            let rest: Map<String, Value> = map
                .iter()
                .filter(|(k, _)| !combinators.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            parts.push(Cow::Owned(Value::Object(rest)));
        }
        for k in combinators {
            parts.push(Cow::Owned(Value::Object(Map::from_iter([(
                k.to_string(),
                map[k].clone(),
            )]))));
        }
        return Shape::Combined("allOf", parts);
    }
    if let Some(Value::Array(values)) = map.get("enum") {
        return Shape::Enum(values.iter().collect());
    }
    if let Some(value) = map.get("const") {
        return Shape::Enum(vec![value]);
    }
    match map.get("type") {
        Some(Value::String(name)) => match type_named(name) {
            Some((t, integer)) => Shape::Typed(t, map, integer),
            None => Shape::Empty,
        },
        Some(Value::Array(names)) if names.len() == 1 => {
            match names[0].as_str().and_then(type_named) {
                Some((t, integer)) => Shape::Typed(t, map, integer),
                None => Shape::Empty,
            }
        }
        Some(Value::Array(names)) => {
            let subs = names
                .iter()
                .map(|name| {
                    let mut single = map.clone();
                    single.insert("type".into(), name.clone());
                    Cow::Owned(Value::Object(single))
                })
                .collect();
            Shape::Combined("anyOf", subs)
        }
        _ => KEYWORDS_BY_TYPE
            .iter()
            .find(|(_, ks)| ks.iter().any(|k| map.contains_key(*k)))
            .map_or(Shape::Empty, |(t, _)| Shape::Typed(*t, map, false)),
    }
}

fn name_of(combinator: &str) -> &'static str {
    match combinator {
        "allOf" => "allOf",
        "anyOf" => "anyOf",
        _ => "oneOf",
    }
}

/// Follows `$ref`s to the schema they name, and the document it sits in.
pub(super) fn resolve<'a>(mut side: Side<'a>, mut schema: &'a Value) -> (Side<'a>, &'a Value) {
    for _ in 0..MAX_DEPTH {
        let Some(target) = schema.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let (doc, fragment) = match target.split_once('#') {
            Some(("", fragment)) => (side.doc, fragment),
            Some((_, fragment)) => match find_reference(side.refs, target) {
                Some(doc) => (doc, fragment),
                None => break,
            },
            None => match find_reference(side.refs, target) {
                Some(doc) => (doc, ""),
                None => break,
            },
        };
        match doc.pointer(fragment) {
            Some(found) => {
                side.doc = doc;
                schema = found;
            }
            None => break,
        }
    }
    (side, schema)
}

pub(super) fn is_empty_schema(side: Side<'_>, schema: &Value) -> bool {
    matches!(shape(resolve(side, schema).1), Shape::Empty)
}
