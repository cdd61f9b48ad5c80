//! A topology file's `[[schemas]]`: schemas registered in the embedded schema registry at
//! start, in file order, each `{subject, type = "AVRO" | "JSON" | "PROTOBUF" (default
//! AVRO), schema = "..." or file = "path", references = [{name, subject, version}]}`.
//! A `file` is read relative to the topology file (to the working directory for text
//! given to `from_toml`). Every entry is registered in a scratch registry while the file
//! is checked, so an invalid schema, a missing reference or an incompatible version is an
//! error naming its line before anything starts.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Checker, ConfigError};
use crate::registry::{NewSchema, SchemaReference, SchemaRegistry, SchemaType};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SchemaShape {
    subject: String,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    schema: Option<String>,
    file: Option<Spanned<String>>,
    #[serde(default)]
    references: Vec<SchemaReference>,
}

impl Checker<'_> {
    /// The file's schemas, read and registered in a scratch registry to check them.
    pub(super) fn schemas(
        &self,
        shapes: Vec<Spanned<SchemaShape>>,
        dir: Option<&Path>,
    ) -> Result<Vec<(String, NewSchema)>, ConfigError> {
        let scratch = SchemaRegistry::new();
        let mut out = Vec::with_capacity(shapes.len());
        for shape in shapes {
            let span = shape.span();
            let shape = shape.into_inner();
            let kind = match &shape.kind {
                None => SchemaType::Avro,
                Some(k) => [SchemaType::Avro, SchemaType::Json, SchemaType::Protobuf]
                    .into_iter()
                    .find(|t| t.name().eq_ignore_ascii_case(k.get_ref()))
                    .ok_or_else(|| {
                        self.error(
                            k.span(),
                            format!(
                                "schema type {:?} is not AVRO, JSON or PROTOBUF",
                                k.get_ref()
                            ),
                        )
                    })?,
            };
            let text = match (shape.schema, &shape.file) {
                (Some(text), None) => text,
                (None, Some(file)) => {
                    let path = dir.map_or_else(
                        || Path::new(file.get_ref()).to_path_buf(),
                        |d| d.join(file.get_ref()),
                    );
                    std::fs::read_to_string(&path).map_err(|e| {
                        self.error(
                            file.span(),
                            format!("schema file {} cannot be read: {e}", path.display()),
                        )
                    })?
                }
                _ => {
                    return Err(self.error(
                        span,
                        format!(
                            "schema for subject {:?} needs one of `schema` and `file`",
                            shape.subject
                        ),
                    ));
                }
            };
            let new = NewSchema::of(kind, text).with_references(shape.references);
            scratch.register(&shape.subject, new.clone()).map_err(|e| {
                self.error(
                    span.clone(),
                    format!("schema for subject {:?}: {}", shape.subject, e.message),
                )
            })?;
            out.push((shape.subject, new));
        }
        Ok(out)
    }
}
