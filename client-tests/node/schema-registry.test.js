'use strict';
// @kafkajs/confluent-schema-registry (the Node registry client most kafkajs users pair
// with it) against broker-sim's embedded schema registry, which run.sh's cluster serves
// on its control port: Avro, JSON Schema and Protobuf values registered and encoded by
// the client, produced and consumed with kafkajs, decoded by the client, and checked on
// the broker's side through the control API (the records answer's `value_decoded`, the
// schema audit); the client's subject calls and a 409 for an incompatible evolution.
//
// Nothing sleeps to synchronise: the consumer reports what it reads to a Watch, and a
// test awaits a condition on that state, re-checked on every report, with a deadline.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Kafka, Partitioners, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');
const { DEADLINE_MS, Watch, unique: uniqueNames } = require('./support');

const bootstrap = process.env.BROKER_SIM_BOOTSTRAP;
const controlUrl = process.env.BROKER_SIM_CONTROL;
if (!bootstrap || !controlUrl) {
  throw new Error('BROKER_SIM_BOOTSTRAP or BROKER_SIM_CONTROL is not set: run client-tests/node/run.sh');
}


const kafka = new Kafka({
  clientId: 'schema-registry-tests',
  brokers: bootstrap.split(','),
  logLevel: logLevel.NOTHING,
});
const registry = new SchemaRegistry({ host: controlUrl });

const unique = uniqueNames('sr');

async function createTopic(topic) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] }), true);
  } finally {
    await admin.disconnect();
  }
}

async function produce(topic, values) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
  } finally {
    await producer.disconnect();
  }
}

// Reads the topic from the beginning with a kafkajs consumer until `count` values came,
// and returns them (raw bytes) in offset order.
async function consume(topic, count) {
  const watch = new Watch();
  const read = [];
  const consumer = kafka.consumer({ groupId: unique('consume', 'group'), maxWaitTimeInMs: 500 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        read.push({ offset: Number(message.offset), value: message.value });
        watch.notify();
      },
    });
    await watch.until(() => read.length >= count, `${count} records`, () => read.length);
  } finally {
    await consumer.disconnect();
  }
  return read.sort((a, b) => a.offset - b.offset).map((r) => r.value);
}

// The control API (not the registry's paths): the broker's side of a round trip.
async function control(method, path, body) {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
  const response = await fetch(`${controlUrl}${path}`, init);
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// Plain data: avsc and protobufjs decode into instances of their generated classes.
const plain = (value) => JSON.parse(JSON.stringify(value));

// Registers `schema` under the topic's TopicNameStrategy subject, sends `values` encoded
// by the client, reads them back with kafkajs and decodes them with the client; returns
// the id and the broker's records answer.
async function roundTrip(name, schema, values) {
  const topic = unique(name, 'topic');
  const subject = `${topic}-value`;
  await createTopic(topic);
  const { id } = await registry.register(schema, { subject });
  assert.equal(typeof id, 'number');
  const encoded = await Promise.all(values.map((v) => registry.encode(id, v)));
  for (const bytes of encoded) {
    assert.equal(bytes[0], 0, 'magic byte');
    assert.equal(bytes.readInt32BE(1), id, 'schema id after the magic byte');
  }
  await produce(topic, encoded);
  const read = await consume(topic, values.length);
  const decoded = await Promise.all(read.map((bytes) => registry.decode(bytes)));
  assert.deepEqual(plain(decoded), values);
  const { records } = await control('GET', `/v1/topics/${topic}/records?limit=100`);
  assert.equal(records.length, values.length);
  return { topic, subject, id, records };
}

function assertDecodedByBroker(records, { id, subject, schemaType }, values) {
  assert.deepEqual(
    records.map((r) => r.value_decoded),
    values.map((value) => ({ schema_id: id, subject, schema_type: schemaType, value })),
  );
}

async function assertNoViolations(topic, count) {
  const audit = await control('GET', `/v1/topics/${topic}/schema-violations`);
  assert.deepEqual(audit, { topic, checked: count, violations: [] });
}

const orderAvro = {
  type: 'record',
  name: 'OrderCreated',
  namespace: 'test.orders',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'quantity', type: 'int' },
    { name: 'express', type: 'boolean' },
  ],
};

test('an Avro value registered and encoded by the client round-trips through kafkajs and the broker decodes it', { timeout: 3 * DEADLINE_MS }, async () => {
  const values = [
    { id: 'order-1', quantity: 3, express: false },
    { id: 'order-2', quantity: 1, express: true },
  ];
  const schema = { type: SchemaType.AVRO, schema: JSON.stringify(orderAvro) };
  const { topic, subject, id, records } = await roundTrip('avro', schema, values);
  assertDecodedByBroker(records, { id, subject, schemaType: 'AVRO' }, values);
  await assertNoViolations(topic, values.length);
});

test('a JSON Schema value registered and encoded by the client round-trips through kafkajs and the broker decodes it', { timeout: 3 * DEADLINE_MS }, async () => {
  const jsonSchema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Payment',
    type: 'object',
    properties: {
      id: { type: 'string' },
      amount: { type: 'number' },
      tags: { type: 'array', items: { type: 'string' } },
    },
    required: ['id', 'amount'],
  };
  const values = [
    { id: 'pay-1', amount: 12.5, tags: ['card'] },
    { id: 'pay-2', amount: 3 },
  ];
  const schema = { type: SchemaType.JSON, schema: JSON.stringify(jsonSchema) };
  const { topic, subject, id, records } = await roundTrip('json', schema, values);
  assertDecodedByBroker(records, { id, subject, schemaType: 'JSON' }, values);
  await assertNoViolations(topic, values.length);
  // The client validates before it encodes: a value missing a required field never leaves.
  await assert.rejects(registry.encode(id, { amount: 1 }), { name: 'ConfluentSchemaRegistryValidationError' });
});

const shipmentProto = `syntax = "proto3";
package test.shipping;

message Shipment {
  string id = 1;
  int32 parcels = 2;
  repeated string labels = 3;
}
`;

test('a Protobuf value registered and encoded by the client round-trips through kafkajs and decodes with its fields', { timeout: 3 * DEADLINE_MS }, async () => {
  const values = [
    { id: 'ship-1', parcels: 2, labels: ['fragile', 'heavy'] },
    { id: 'ship-2', parcels: 1, labels: ['light'] },
  ];
  const schema = { type: SchemaType.PROTOBUF, schema: shipmentProto };
  const { subject, id } = await roundTrip('protobuf', schema, values);
  const registered = await control('GET', `/subjects/${subject}/versions/latest`);
  assert.equal(registered.id, id);
  assert.equal(registered.schemaType, 'PROTOBUF');
});

test("the client's own Protobuf framing, without message indexes, is a does_not_decode violation in the broker's audit", { timeout: 2 * DEADLINE_MS }, async () => {
  // After the schema id Confluent's wire format has the message-index array; the client
  // writes the message bytes at once, so their first byte (a field tag) is read as the
  // array's length, as Confluent's own deserializers would.
  const topic = unique('protobuf-unframed', 'topic');
  const subject = `${topic}-value`;
  await createTopic(topic);
  const { id } = await registry.register({ type: SchemaType.PROTOBUF, schema: shipmentProto }, { subject });
  await produce(topic, [await registry.encode(id, { id: 'ship-4', parcels: 1, labels: [] })]);
  const { records } = await control('GET', `/v1/topics/${topic}/records?limit=10`);
  assert.equal(records.length, 1);
  assert.equal(records[0].value_decoded.schema_id, id);
  assert.equal(records[0].value_decoded.value, undefined);
  assert.match(records[0].value_decoded.error, /message index/);
  const audit = await control('GET', `/v1/topics/${topic}/schema-violations`);
  assert.equal(audit.checked, 1);
  assert.deepEqual(
    audit.violations.map(({ partition, offset, part, schema_id, reason }) => ({ partition, offset, part, schema_id, reason })),
    [{ partition: 0, offset: 0, part: 'value', schema_id: id, reason: 'does_not_decode' }],
  );
});

test("a Protobuf value framed with Confluent's message indexes decodes in the client and in the broker", { timeout: 3 * DEADLINE_MS }, async () => {
  // The client writes no message-index array after the schema id (it strips leading zero
  // bytes when it decodes); Confluent's serializers write [0] (one zero byte) for the
  // first message. Framed that way the value is what the broker's audit expects, and the
  // client still reads it.
  const topic = unique('protobuf-indexes', 'topic');
  const subject = `${topic}-value`;
  await createTopic(topic);
  const { id } = await registry.register({ type: SchemaType.PROTOBUF, schema: shipmentProto }, { subject });
  const value = { id: 'ship-3', parcels: 4, labels: ['boxed'] };
  const unframed = await registry.encode(id, value);
  const framed = Buffer.concat([unframed.subarray(0, 5), Buffer.from([0]), unframed.subarray(5)]);
  await produce(topic, [framed]);
  const [read] = await consume(topic, 1);
  assert.deepEqual(plain(await registry.decode(read)), value);
  const { records } = await control('GET', `/v1/topics/${topic}/records?limit=10`);
  assertDecodedByBroker(records, { id, subject, schemaType: 'PROTOBUF' }, [value]);
  await assertNoViolations(topic, 1);
});

test('getLatestSchemaId and getRegistryId name the versions, and BACKWARD rejects an incompatible Avro evolution with 409', { timeout: 2 * DEADLINE_MS }, async () => {
  const subject = unique('evolution', 'subject');
  const v1 = { type: SchemaType.AVRO, schema: JSON.stringify(orderAvro) };
  // A field with a default: new readers still read v1's data.
  const v2Avro = { ...orderAvro, fields: [...orderAvro.fields, { name: 'note', type: 'string', default: '' }] };
  const v2 = { type: SchemaType.AVRO, schema: JSON.stringify(v2Avro) };
  const { id: id1 } = await registry.register(v1, { subject });
  await control('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' });
  assert.deepEqual(await control('GET', `/config/${subject}`), { compatibilityLevel: 'BACKWARD' });
  const { id: id2 } = await registry.register(v2, { subject });
  assert.notEqual(id1, id2);

  assert.equal(await registry.getLatestSchemaId(subject), id2);
  assert.equal(await registry.getRegistryId(subject, 1), id1);
  assert.equal(await registry.getRegistryId(subject, 2), id2);
  assert.equal(await registry.getRegistryId(subject, 'latest'), id2);

  // A field without a default: v3 cannot read v2's data.
  const v3Avro = { ...v2Avro, fields: [...v2Avro.fields, { name: 'priority', type: 'int' }] };
  await assert.rejects(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v3Avro) }, { subject }), (error) => {
    assert.equal(error.name, 'ResponseError');
    assert.equal(error.status, 409);
    assert.match(error.message, /incompatible/);
    assert.match(error.url, new RegExp(`^POST .*/subjects/${subject.replace(/\./g, '\\.')}/versions$`, 'i'));
    return true;
  });
  const versions = await control('GET', `/subjects/${subject}/versions`);
  assert.deepEqual(versions, [1, 2]);
  assert.equal(await registry.getLatestSchemaId(subject), id2);
});
