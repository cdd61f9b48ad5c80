//! Whether a Protobuf reader can read what a writer wrote: Confluent's rules, written
//! afresh over prost-reflect's descriptors. Writer and reader files are walked side by
//! side (writer as Confluent's "original", reader as its "update"); each difference gets
//! Confluent's `Difference.Type` name and a path of message names, oneof names and field
//! numbers (`#/Order/2`), and those outside Confluent's compatible set are the
//! incompatibilities.
//!
//! Checked, incompatible: `PACKAGE_CHANGED`, `MESSAGE_REMOVED` (map entries aside),
//! `FIELD_KIND_CHANGED` (scalar or enum / message / map), `FIELD_SCALAR_KIND_CHANGED`
//! (between protobuf's wire-compatible groups: int32/int64/uint32/uint64/bool/enums,
//! sint32/sint64, string/bytes, fixed32/sfixed32, fixed64/sfixed64, float, double),
//! `FIELD_NAMED_TYPE_CHANGED` (a message field's type renamed, or changed
//! incompatibly, its differences listed too), `FIELD_NUMERIC_LABEL_CHANGED` (a numeric
//! field turned repeated or singular, as Confluent's releases that compare labels do),
//! `REQUIRED_FIELD_ADDED`/`REQUIRED_FIELD_REMOVED` (proto2), `ONEOF_FIELD_REMOVED`,
//! `MULTIPLE_FIELDS_MOVED_TO_ONEOF`, `FIELD_MOVED_TO_EXISTING_ONEOF`; map keys and
//! values are compared as fields.
//!
//! Checked, compatible (never reported): `MESSAGE_ADDED`, `MESSAGE_MOVED`, `FIELD_ADDED`,
//! `FIELD_REMOVED`, `FIELD_NAME_CHANGED`, `FIELD_STRING_OR_BYTES_LABEL_CHANGED`,
//! `ONEOF_ADDED`, `ONEOF_REMOVED`, `ONEOF_FIELD_ADDED`. Enum changes (`ENUM_ADDED`,
//! `ENUM_REMOVED`, `ENUM_CONST_*`) are all compatible in Confluent's set and are not
//! walked. Confluent has no rule for a `syntax` change, nor for reserved numbers, and
//! neither has this. Proto3 `optional` fields count as plain fields (their synthetic
//! oneofs are not oneofs), as in Confluent's parser.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use prost_reflect::{
    Cardinality, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor, OneofDescriptor,
};

const COMPATIBLE: &[&str] = &[
    "MESSAGE_ADDED",
    "MESSAGE_MOVED",
    "FIELD_ADDED",
    "FIELD_REMOVED",
    "FIELD_NAME_CHANGED",
    "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
    "ONEOF_ADDED",
    "ONEOF_REMOVED",
    "ONEOF_FIELD_ADDED",
];

/// Why data written with `writer` may not be read with `reader`.
pub(super) fn incompatibilities(writer: &FileDescriptor, reader: &FileDescriptor) -> Vec<String> {
    let mut ctx = Ctx::default();
    if writer.package_name() != reader.package_name() {
        ctx.add("PACKAGE_CHANGED");
    }
    messages(
        &mut ctx,
        writer.messages().collect(),
        reader.messages().collect(),
    );
    let mut seen = HashSet::new();
    ctx.diffs
        .into_iter()
        .filter(|(_, kind)| !COMPATIBLE.contains(kind))
        .map(|(path, kind)| format!("{path}: {kind}"))
        .filter(|line| seen.insert(line.clone()))
        .collect()
}

#[derive(Default)]
struct Ctx {
    path: Vec<String>,
    diffs: Vec<(String, &'static str)>,
    /// The (writer, reader) message pairs being compared, so recursive types end.
    active: HashSet<(String, String)>,
}

impl Ctx {
    fn add(&mut self, kind: &'static str) {
        self.diffs
            .push((format!("#/{}", self.path.join("/")), kind));
    }

    fn within<R>(&mut self, segment: impl ToString, f: impl FnOnce(&mut Ctx) -> R) -> R {
        self.path.push(segment.to_string());
        let result = f(self);
        self.path.pop();
        result
    }
}

/// The messages of one scope (a file, or a message's nested ones), matched by name.
fn messages(ctx: &mut Ctx, writer: Vec<MessageDescriptor>, reader: Vec<MessageDescriptor>) {
    let by_name = |list: Vec<MessageDescriptor>| -> BTreeMap<String, (usize, MessageDescriptor)> {
        list.into_iter()
            .enumerate()
            .map(|(i, m)| (m.name().to_string(), (i, m)))
            .collect()
    };
    let (writer, reader) = (by_name(writer), by_name(reader));
    let names: BTreeSet<&String> = writer.keys().chain(reader.keys()).collect();
    for name in names {
        ctx.within(name, |ctx| match (writer.get(name), reader.get(name)) {
            (Some((_, w)), None) if !w.is_map_entry() => ctx.add("MESSAGE_REMOVED"),
            (None, Some((_, r))) if !r.is_map_entry() => ctx.add("MESSAGE_ADDED"),
            (Some((wi, w)), Some((ri, r))) => {
                message(ctx, w, r);
                if wi != ri {
                    // Payloads name their type by index in the writer's own schema.
                    ctx.add("MESSAGE_MOVED");
                }
            }
            _ => {}
        });
    }
}

/// The fields that are not in a (real) oneof, by number.
fn plain_fields(m: &MessageDescriptor) -> BTreeMap<u32, FieldDescriptor> {
    m.fields()
        .filter(|f| real_oneof(f).is_none())
        .map(|f| (f.number(), f))
        .collect()
}

fn real_oneof(field: &FieldDescriptor) -> Option<OneofDescriptor> {
    field.containing_oneof().filter(|o| !o.is_synthetic())
}

fn real_oneofs(m: &MessageDescriptor) -> BTreeMap<String, OneofDescriptor> {
    m.oneofs()
        .filter(|o| !o.is_synthetic())
        .map(|o| (o.name().to_string(), o))
        .collect()
}

fn message(ctx: &mut Ctx, w: &MessageDescriptor, r: &MessageDescriptor) {
    let pair = (w.full_name().to_string(), r.full_name().to_string());
    if !ctx.active.insert(pair.clone()) {
        return;
    }
    let mut w_plain = plain_fields(w);
    let r_plain = plain_fields(r);
    let w_all: BTreeMap<u32, FieldDescriptor> = w.fields().map(|f| (f.number(), f)).collect();
    let r_all: BTreeMap<u32, FieldDescriptor> = r.fields().map(|f| (f.number(), f)).collect();
    let (w_oneofs, r_oneofs) = (real_oneofs(w), real_oneofs(r));

    // Fields gathered into a reader oneof: one plain field may join a new oneof, more
    // may not (a writer could set them together), nor one into a oneof that had others.
    for (name, oneof) in &r_oneofs {
        let (mut moved, mut existing) = (0, 0);
        for field in oneof.fields() {
            if w_plain.remove(&field.number()).is_some() {
                moved += 1;
            } else if w_all
                .get(&field.number())
                .is_some_and(|f| real_oneof(f).is_some())
            {
                existing += 1;
            }
        }
        ctx.within(name, |ctx| {
            if moved > 1 {
                ctx.add("MULTIPLE_FIELDS_MOVED_TO_ONEOF");
            } else if moved == 1 && existing > 0 {
                ctx.add("FIELD_MOVED_TO_EXISTING_ONEOF");
            }
        });
    }

    let names: BTreeSet<&String> = w_oneofs.keys().chain(r_oneofs.keys()).collect();
    for name in names {
        ctx.within(name, |ctx| match (w_oneofs.get(name), r_oneofs.get(name)) {
            (Some(_), None) => ctx.add("ONEOF_REMOVED"),
            (None, Some(_)) => ctx.add("ONEOF_ADDED"),
            (Some(wo), Some(ro)) => {
                let w_members: BTreeMap<u32, FieldDescriptor> =
                    wo.fields().map(|f| (f.number(), f)).collect();
                let r_members: BTreeMap<u32, FieldDescriptor> =
                    ro.fields().map(|f| (f.number(), f)).collect();
                let numbers: BTreeSet<u32> =
                    w_members.keys().chain(r_members.keys()).copied().collect();
                for number in numbers {
                    ctx.within(number, |ctx| {
                        match (w_members.get(&number), r_members.get(&number)) {
                            // A member that moved elsewhere in the message was not removed.
                            (Some(_), None) if !r_all.contains_key(&number) => {
                                ctx.add("ONEOF_FIELD_REMOVED")
                            }
                            (None, Some(_)) => ctx.add("ONEOF_FIELD_ADDED"),
                            (Some(wf), Some(rf)) => field(ctx, wf, rf),
                            _ => {}
                        }
                    });
                }
            }
            (None, None) => {}
        });
    }

    let numbers: BTreeSet<u32> = w_plain.keys().chain(r_plain.keys()).copied().collect();
    for number in numbers {
        ctx.within(number, |ctx| {
            match (w_plain.get(&number), r_plain.get(&number)) {
                (Some(wf), None) if wf.cardinality() == Cardinality::Required => {
                    ctx.add("REQUIRED_FIELD_REMOVED")
                }
                (Some(_), None) => ctx.add("FIELD_REMOVED"),
                (None, Some(rf)) if rf.cardinality() == Cardinality::Required => {
                    ctx.add("REQUIRED_FIELD_ADDED")
                }
                (None, Some(_)) => ctx.add("FIELD_ADDED"),
                (Some(wf), Some(rf)) => field(ctx, wf, rf),
                (None, None) => {}
            }
        });
    }

    // Fields whose oneof changed (moved in or out, or the oneof renamed) were not compared
    // above: compare what they carry.
    for (number, wf) in &w_all {
        let Some(rf) = r_all.get(number) else {
            continue;
        };
        let (wo, ro) = (real_oneof(wf), real_oneof(rf));
        let compared = match (&wo, &ro) {
            (None, None) => true,
            (Some(a), Some(b)) => a.name() == b.name(),
            _ => false,
        };
        if !compared {
            ctx.within(number, |ctx| field(ctx, wf, rf));
        }
    }

    messages(
        ctx,
        w.child_messages().collect(),
        r.child_messages().collect(),
    );
    ctx.active.remove(&pair);
}

fn field(ctx: &mut Ctx, w: &FieldDescriptor, r: &FieldDescriptor) {
    if w.name() != r.name() {
        ctx.add("FIELD_NAME_CHANGED");
    }
    types(ctx, w, r, true);
}

/// What a field holds, in Confluent's terms.
enum Shape {
    Scalar(ScalarGroup),
    Message(MessageDescriptor),
    Map(FieldDescriptor, FieldDescriptor),
}

/// Scalars that read each other's encoding: a change within a group is compatible.
#[derive(PartialEq, Eq, Clone, Copy)]
enum ScalarGroup {
    Varint,
    ZigZag,
    Bytes,
    Fixed32,
    Fixed64,
    Float,
    Double,
}

fn shape(f: &FieldDescriptor) -> Shape {
    match f.kind() {
        Kind::Message(m) if m.is_map_entry() => {
            Shape::Map(m.map_entry_key_field(), m.map_entry_value_field())
        }
        Kind::Message(m) => Shape::Message(m),
        Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Bool | Kind::Enum(_) => {
            Shape::Scalar(ScalarGroup::Varint)
        }
        Kind::Sint32 | Kind::Sint64 => Shape::Scalar(ScalarGroup::ZigZag),
        Kind::String | Kind::Bytes => Shape::Scalar(ScalarGroup::Bytes),
        Kind::Fixed32 | Kind::Sfixed32 => Shape::Scalar(ScalarGroup::Fixed32),
        Kind::Fixed64 | Kind::Sfixed64 => Shape::Scalar(ScalarGroup::Fixed64),
        Kind::Float => Shape::Scalar(ScalarGroup::Float),
        Kind::Double => Shape::Scalar(ScalarGroup::Double),
    }
}

/// Compares what two fields hold; `labels` says whether their repeatedness counts (not
/// for map keys and values).
fn types(ctx: &mut Ctx, w: &FieldDescriptor, r: &FieldDescriptor, labels: bool) {
    match (shape(w), shape(r)) {
        (Shape::Scalar(a), Shape::Scalar(b)) if a != b => ctx.add("FIELD_SCALAR_KIND_CHANGED"),
        (Shape::Scalar(group), Shape::Scalar(_)) => {
            if labels && w.is_list() != r.is_list() {
                ctx.add(if group == ScalarGroup::Bytes {
                    "FIELD_STRING_OR_BYTES_LABEL_CHANGED"
                } else {
                    "FIELD_NUMERIC_LABEL_CHANGED"
                });
            }
        }
        (Shape::Message(a), Shape::Message(b)) => message_types(ctx, &a, &b),
        (Shape::Map(wk, wv), Shape::Map(rk, rv)) => {
            types(ctx, &wk, &rk, false);
            types(ctx, &wv, &rv, false);
        }
        _ => ctx.add("FIELD_KIND_CHANGED"),
    }
}

/// The message's name without its package.
fn local_name(m: &MessageDescriptor) -> &str {
    let package = m.package_name();
    if package.is_empty() {
        m.full_name()
    } else {
        m.full_name()
            .strip_prefix(package)
            .and_then(|n| n.strip_prefix('.'))
            .unwrap_or(m.full_name())
    }
}

fn message_types(ctx: &mut Ctx, w: &MessageDescriptor, r: &MessageDescriptor) {
    if local_name(w) != local_name(r) {
        return ctx.add("FIELD_NAMED_TYPE_CHANGED");
    }
    // The same name may hide a changed type (another version of a reference): compare it.
    let mut sub = Ctx {
        path: local_name(w).split('.').map(str::to_string).collect(),
        diffs: Vec::new(),
        active: ctx.active.clone(),
    };
    message(&mut sub, w, r);
    let compatible = sub.diffs.iter().all(|(_, kind)| COMPATIBLE.contains(kind));
    ctx.diffs.extend(sub.diffs);
    if !compatible {
        ctx.add("FIELD_NAMED_TYPE_CHANGED");
    }
}
