//! JSON Schema: parsing (a valid schema of its `$schema` draft, draft-07 when it names
//! none, as Confluent's default), the canonical form, decoding a payload and, in
//! `compat`, Confluent's compatibility rules.
//!
//! Confluent's JSON Schema serializer writes the value's JSON text after the magic byte
//! and the id, so decoding is parsing that text and validating it against the schema.
//! References are the schemas the registry resolved for this one: a `$ref` names one by
//! its reference name (a URL or a file name such as `address.json`), and the validator
//! gets them from memory through its retriever, never from the network or the disk.
//!
//! The canonical form is the schema re-serialized with sorted keys and no whitespace,
//! so that key order and formatting do not make two registrations differ.

mod compat;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use jsonschema::{Draft, Retrieve, Uri, Validator};
use serde_json::Value;

use super::schema::Reference;

/// How many validation errors a failed decode lists.
const ERRORS_SHOWN: usize = 3;

pub struct JsonSchema {
    /// The schema document as registered.
    root: Value,
    /// The referenced documents by reference name (shared with the validator's
    /// retriever).
    references: Arc<BTreeMap<String, Value>>,
    validator: Validator,
}

impl JsonSchema {
    pub fn parse(text: &str, references: &[Reference<'_>]) -> Result<Self, String> {
        let root: Value =
            serde_json::from_str(text).map_err(|e| format!("the schema is not JSON: {e}"))?;
        if !root.is_object() && !root.is_boolean() {
            return Err("a JSON schema is an object or a boolean".into());
        }
        let mut docs = BTreeMap::new();
        for reference in references {
            let doc: Value = serde_json::from_str(reference.schema).map_err(|e| {
                format!("the referenced schema {} is not JSON: {e}", reference.name)
            })?;
            docs.insert(reference.name.to_string(), doc);
        }
        let references = Arc::new(docs);
        let validator = jsonschema::options()
            .with_draft(draft_of(&root)?)
            .with_retriever(References(Arc::clone(&references)))
            .build(&root)
            .map_err(|e| format!("invalid JSON schema: {e}"))?;
        Ok(JsonSchema {
            root,
            references,
            validator,
        })
    }

    pub fn canonical(&self) -> String {
        // serde_json's map (without `preserve_order`) is a BTreeMap: keys come out sorted.
        serde_json::to_string(&sorted(&self.root)).expect("a JSON value serializes")
    }

    pub fn can_read(&self, writer: &Self) -> Vec<String> {
        compat::incompatibilities(writer, self)
    }

    pub fn decode(&self, payload: &[u8]) -> Result<Value, String> {
        let value: Value =
            serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
        let errors: Vec<String> = self
            .validator
            .iter_errors(&value)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{}: {e}", if at.is_empty() { "/" } else { &at })
            })
            .collect();
        if errors.is_empty() {
            return Ok(value);
        }
        let more = errors.len().saturating_sub(ERRORS_SHOWN);
        let mut message = format!(
            "the payload does not match its schema: {}",
            errors[..errors.len().min(ERRORS_SHOWN)].join("; ")
        );
        if more > 0 {
            message.push_str(&format!(" (and {more} more)"));
        }
        Err(message)
    }

    /// The schema document and where its `$ref`s lead, for the compatibility check.
    fn documents(&self) -> (&Value, &BTreeMap<String, Value>) {
        (&self.root, &self.references)
    }
}

/// The draft `$schema` names; draft-07 when there is none (Confluent's default).
fn draft_of(root: &Value) -> Result<Draft, String> {
    let Some(uri) = root.get("$schema") else {
        return Ok(Draft::Draft7);
    };
    let uri = uri.as_str().ok_or("$schema is not a string")?;
    let drafts = [
        ("draft-04", Draft::Draft4),
        ("draft-06", Draft::Draft6),
        ("draft-07", Draft::Draft7),
        ("2019-09", Draft::Draft201909),
        ("2020-12", Draft::Draft202012),
    ];
    drafts
        .iter()
        .find(|(tag, _)| uri.contains(tag))
        .map(|(_, draft)| *draft)
        .ok_or_else(|| {
            format!("unknown $schema {uri:?} (drafts 4, 6, 7, 2019-09 and 2020-12 are served)")
        })
}

/// The value with its object keys sorted at every depth.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The referenced document a `$ref` target (a URI, or a name relative to the schema's
/// base) names: the reference whose name is the whole target or its final segments.
fn find_reference<'a>(references: &'a BTreeMap<String, Value>, target: &str) -> Option<&'a Value> {
    let target = target.split('#').next().unwrap_or_default();
    if target.is_empty() {
        return None;
    }
    if let Some(doc) = references.get(target) {
        return Some(doc);
    }
    references.iter().find_map(|(name, doc)| {
        let name = name.trim_start_matches("./");
        (target.ends_with(&format!("/{name}")) || name.ends_with(&format!("/{target}")))
            .then_some(doc)
    })
}

/// The validator's retriever: references come from the registry, nothing else resolves.
struct References(Arc<BTreeMap<String, Value>>);

impl Retrieve for References {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        find_reference(&self.0, uri.as_str())
            .cloned()
            .ok_or_else(|| format!("{uri} is not among the schema's references").into())
    }
}
