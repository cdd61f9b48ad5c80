'use strict';
// kafkajs (pure JavaScript, its own protocol code) against the broker-sim binary that
// run.sh starts: a produce/consume round trip, a consumer group of two members reading
// every record once, the admin group calls (fetchOffsets, describeGroups, listGroups,
// deleteGroups), and the compatibility steps checked through the control API (admin
// create, keyed acks=all produce, a group of two committing, resuming after the group's
// coordinator restarts).
//
// Nothing sleeps to synchronise: consumers run in the background and report what they
// see (records, group joins) to a Watch, and a test awaits a condition on that state,
// re-checked on every report, with a deadline.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Kafka, Partitioners, logLevel } = require('kafkajs');
const { DEADLINE_MS, Watch, unique: uniqueNames } = require('./support');

const bootstrap = process.env.BROKER_SIM_BOOTSTRAP;
if (!bootstrap) throw new Error('BROKER_SIM_BOOTSTRAP is not set: run client-tests/node/run.sh');

const RECORD_COUNT = 40;

const kafka = new Kafka({
  clientId: 'kafkajs-tests',
  brokers: bootstrap.split(','),
  logLevel: logLevel.NOTHING,
});

const unique = uniqueNames('kafkajs');

async function createTopic(topic, numPartitions) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 3 }] }), true);
  } finally {
    await admin.disconnect();
  }
}

// Sends with acks=all (-1); returns the per-partition acknowledgements.
async function produce(topic, messages) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    return await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

// A group member that records what it reads and each assignment it is given.
async function startMember(topic, groupId, clientId, watch) {
  const member = { read: [], assigned: null };
  const consumer = new Kafka({ clientId, brokers: bootstrap.split(','), logLevel: logLevel.NOTHING }).consumer({
    groupId,
    heartbeatInterval: 500,
    sessionTimeout: 10000,
    maxWaitTimeInMs: 500,
  });
  member.consumer = consumer;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.assigned = new Set(payload.memberAssignment[topic] || []);
    watch.notify();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      member.read.push({
        partition,
        offset: Number(message.offset),
        key: message.key && message.key.toString(),
        value: message.value.toString(),
      });
      watch.notify();
    },
  });
  return member;
}

const evenlySplit = (sets, partitions) =>
  sets.every((s) => s !== null && s.size === partitions / sets.length) &&
  new Set(sets.flatMap((s) => [...s])).size === partitions;

test('keyed records sent with acks=all are read back', { timeout: 2 * DEADLINE_MS }, async () => {
  const topic = unique('round-trip', 'topic');
  await createTopic(topic, 3);
  const sent = Array.from({ length: RECORD_COUNT }, (_, i) => ({ key: `key-${i % 7}`, value: `value-${i}` }));
  const acks = await produce(topic, sent);
  assert.equal(acks.reduce((n, a) => n + (a.errorCode === 0 ? 1 : 0), 0), acks.length, JSON.stringify(acks));

  const watch = new Watch();
  const member = await startMember(topic, unique('round-trip', 'group'), 'round-trip-reader', watch);
  try {
    await watch.until(() => member.read.length >= sent.length, `${sent.length} records`, () => member.read.length);
  } finally {
    await member.consumer.disconnect();
  }

  const sortValues = (rs) => rs.map((r) => `${r.key}=${r.value}`).sort();
  assert.deepEqual(sortValues(member.read), sortValues(sent));
  for (let p = 0; p < 3; p++) {
    const offsets = member.read.filter((r) => r.partition === p).map((r) => r.offset).sort((a, b) => a - b);
    assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${p} offsets`);
    // Each partition's acknowledgement named the offset its first record got.
    const ack = acks.find((a) => a.partition === p);
    if (offsets.length > 0) assert.equal(ack && ack.baseOffset, '0');
  }
  const partitionsOfKey = new Map();
  for (const r of member.read) partitionsOfKey.set(r.key, new Set([...(partitionsOfKey.get(r.key) || []), r.partition]));
  for (const [key, ps] of partitionsOfKey) assert.equal(ps.size, 1, `key ${key} in partitions ${[...ps]}`);
});

test('a group of two splits the partitions and reads each record once', { timeout: 3 * DEADLINE_MS }, async () => {
  const topic = unique('group-of-two', 'topic');
  const groupId = unique('group-of-two', 'group');
  await createTopic(topic, 4);
  const watch = new Watch();
  const members = [];
  try {
    members.push(await startMember(topic, groupId, `${groupId}-0`, watch));
    members.push(await startMember(topic, groupId, `${groupId}-1`, watch));
    const assignments = () => members.map((m) => m.assigned);
    const show = () => JSON.stringify(assignments().map((s) => s && [...s]));
    await watch.until(() => evenlySplit(assignments(), 4), 'two partitions per member', show);

    // Records are written only once the group has settled, so no rebalance can hand one
    // to two members.
    await produce(topic, Array.from({ length: RECORD_COUNT }, (_, i) => ({ partition: i % 4, value: `value-${i}` })));
    const total = () => members.reduce((n, m) => n + m.read.length, 0);
    await watch.until(() => total() >= RECORD_COUNT, `${RECORD_COUNT} records`, () => members.map((m) => m.read.length));

    const values = members.flatMap((m) => m.read.map((r) => r.value)).sort();
    assert.deepEqual(values, Array.from({ length: RECORD_COUNT }, (_, i) => `value-${i}`).sort());
    for (const m of members) {
      assert.deepEqual(new Set(m.read.map((r) => r.partition)), m.assigned);
      assert.equal(m.read.length, RECORD_COUNT / 2);
    }
  } finally {
    for (const m of members) await m.consumer.disconnect();
  }
});

test('admin fetches offsets, describes, lists and deletes groups', { timeout: 2 * DEADLINE_MS }, async () => {
  const topic = unique('admin', 'topic');
  const groupId = unique('admin', 'group');
  await createTopic(topic, 2);
  await produce(topic, Array.from({ length: 6 }, (_, i) => ({ partition: i % 2, value: `value-${i}` })));
  const admin = kafka.admin();
  await admin.connect();
  const watch = new Watch();
  let member;
  try {
    member = await startMember(topic, groupId, 'admin-member', watch);
    await watch.until(() => member.read.length >= 6, '6 records', () => member.read.length);
    await member.consumer.commitOffsets([
      { topic, partition: 0, offset: '3' },
      { topic, partition: 1, offset: '3' },
    ]);

    const [fetched] = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.equal(fetched.topic, topic);
    assert.deepEqual(
      fetched.partitions.map(({ partition, offset }) => ({ partition, offset })).sort((a, b) => a.partition - b.partition),
      [{ partition: 0, offset: '3' }, { partition: 1, offset: '3' }],
    );

    const { groups: [described] } = await admin.describeGroups([groupId]);
    assert.equal(described.groupId, groupId);
    assert.equal(described.state, 'Stable');
    assert.equal(described.protocolType, 'consumer');
    assert.equal(described.protocol, 'RoundRobinAssigner');
    assert.deepEqual(described.members.map((m) => m.clientId), ['admin-member']);

    const { groups } = await admin.listGroups();
    assert.ok(groups.some((g) => g.groupId === groupId && g.protocolType === 'consumer'), JSON.stringify(groups));

    await assert.rejects(admin.deleteGroups([groupId]), (e) => {
      assert.deepEqual(e.groups.map((g) => [g.groupId, g.error.type]), [[groupId, 'NON_EMPTY_GROUP']]);
      return true;
    });

    await member.consumer.disconnect();
    member = null;
    // The member left on disconnect, so the group is empty and can go.
    assert.deepEqual((await admin.deleteGroups([groupId])).map((g) => [g.groupId, g.errorCode]), [[groupId, 0]]);
    assert.ok(!(await admin.listGroups()).groups.some((g) => g.groupId === groupId));
    const [afterDelete] = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.deepEqual(afterDelete.partitions.map((p) => p.offset), ['-1', '-1']);
  } finally {
    if (member) await member.consumer.disconnect();
    await admin.disconnect();
  }
});

// The cluster's control API (run.sh exports its address): the broker's side of each step,
// and broker restarts.
async function control(method, path) {
  // The control API takes changes only as JSON (see broker-sim's control/guard.rs).
  const headers = method === 'GET' ? {} : { 'content-type': 'application/json' };
  const response = await fetch(`${process.env.BROKER_SIM_CONTROL}${path}`, { method, headers });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function checkGroupCommittedEverything(groupId, topic, partitions) {
  const group = await control('GET', `/v1/groups/${groupId}`);
  const offsets = group.offsets.filter((o) => o.topic === topic);
  assert.deepEqual(offsets.map((o) => o.partition), [...Array(partitions).keys()], JSON.stringify(group));
  for (const o of offsets) assert.ok(o.offset === o.high_watermark && o.lag === 0, JSON.stringify(o));
}

test('admin creates a topic', { timeout: DEADLINE_MS }, async () => {
  const topic = unique('admin-create', 'topic');
  await createTopic(topic, 4);
  const described = await control('GET', `/v1/topics/${topic}`);
  assert.deepEqual(described.partitions.map((p) => p.partition), [0, 1, 2, 3]);
  for (const p of described.partitions) {
    assert.equal(p.replicas.length, 3);
    assert.deepEqual([...p.isr].sort(), [...p.replicas].sort());
  }
});

test('keyed produce with acks=all is stored once, equal keys together', { timeout: DEADLINE_MS }, async () => {
  const topic = unique('keyed', 'topic');
  await createTopic(topic, 4);
  const sent = Array.from({ length: RECORD_COUNT }, (_, i) => ({ key: `key-${i % 9}`, value: `value-${i}` }));
  await produce(topic, sent);
  const { records } = await control('GET', `/v1/topics/${topic}/records?limit=1000`);
  assert.deepEqual(records.map((r) => `${r.key}=${r.value}`).sort(), sent.map((r) => `${r.key}=${r.value}`).sort());
  const partitionOf = new Map();
  for (const r of records) {
    assert.equal(partitionOf.get(r.key) ?? r.partition, r.partition, `key ${r.key} in two partitions`);
    partitionOf.set(r.key, r.partition);
  }
});

test('a group of two reads each record once and commits', { timeout: 3 * DEADLINE_MS }, async () => {
  const topic = unique('commit-two', 'topic');
  const groupId = unique('commit-two', 'group');
  await createTopic(topic, 4);
  const watch = new Watch();
  const members = [];
  try {
    members.push(await startMember(topic, groupId, `${groupId}-0`, watch));
    members.push(await startMember(topic, groupId, `${groupId}-1`, watch));
    const assignments = () => members.map((m) => m.assigned);
    await watch.until(() => evenlySplit(assignments(), 4), 'two partitions per member',
      () => JSON.stringify(assignments().map((s) => s && [...s])));
    await produce(topic, Array.from({ length: RECORD_COUNT }, (_, i) => ({ key: `key-${i % 9}`, value: `value-${i}` })));
    const total = () => members.reduce((n, m) => n + m.read.length, 0);
    await watch.until(() => total() >= RECORD_COUNT, `${RECORD_COUNT} records`, () => members.map((m) => m.read.length));
    for (const m of members) {
      const next = new Map();
      for (const r of m.read) next.set(r.partition, Math.max(next.get(r.partition) ?? 0, r.offset + 1));
      await m.consumer.commitOffsets([...next].map(([partition, offset]) => ({ topic, partition, offset: `${offset}` })));
    }
    const values = members.flatMap((m) => m.read.map((r) => r.value)).sort();
    assert.deepEqual(values, Array.from({ length: RECORD_COUNT }, (_, i) => `value-${i}`).sort());
    await checkGroupCommittedEverything(groupId, topic, 4);
  } finally {
    for (const m of members) await m.consumer.disconnect();
  }
});

test('a new member resumes from the commit after the coordinator restarts', { timeout: 3 * DEADLINE_MS }, async () => {
  const topic = unique('restart', 'topic');
  const groupId = unique('restart', 'group');
  await createTopic(topic, 2);
  await produce(topic, Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `old-${i}` })));
  const watch = new Watch();
  let member = await startMember(topic, groupId, 'first', watch);
  try {
    await watch.until(() => member.read.length >= 10, '10 records', () => member.read.length);
    await member.consumer.commitOffsets([0, 1].map((partition) => ({ topic, partition, offset: '5' })));
  } finally {
    await member.consumer.disconnect();
  }
  await checkGroupCommittedEverything(groupId, topic, 2);

  const { coordinator } = await control('GET', `/v1/groups/${groupId}`);
  await control('POST', `/v1/brokers/${coordinator}/restart`);
  await produce(topic, Array.from({ length: 4 }, (_, i) => ({ partition: i % 2, value: `new-${i}` })));
  member = await startMember(topic, groupId, 'second', watch);
  try {
    await watch.until(() => member.read.length >= 4, 'the 4 new records', () => member.read.length);
  } finally {
    await member.consumer.disconnect();
  }
  // Read after the commit only: none of the committed records came again.
  assert.deepEqual(member.read.map((r) => r.value).sort(), ['new-0', 'new-1', 'new-2', 'new-3']);
  assert.ok(member.read.every((r) => r.offset >= 5));
});
