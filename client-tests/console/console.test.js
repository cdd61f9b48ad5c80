// The broker-sim web console in a real browser: Debian's Chromium driven by playwright-core,
// against a broker-sim binary that kafkajs talks to as a real client. Each test does in the
// page what a user would (click a button, fill a form) and asserts on what the page shows;
// every wait is Playwright's auto-waiting or a condition with a deadline, never a sleep.
//
// BROKER_SIM_BOOTSTRAP and BROKER_SIM_CONTROL come from run.sh (client-tests/broker.sh).
// CONSOLE_SCREENSHOTS=DIR saves PNGs of the main pages at 1280x800 into DIR.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { Kafka, logLevel } = require('kafkajs');

const control = process.env.BROKER_SIM_CONTROL;
const brokers = (process.env.BROKER_SIM_BOOTSTRAP || '').split(',').filter(Boolean);
const shots = process.env.CONSOLE_SCREENSHOTS;
const TOPIC = 'console-orders';
const GROUP = 'console-readers';
const WAIT = 20_000;

let browser;
let page;
let kafka;
let admin;
let producer;
const problems = [];

before(async () => {
  assert.ok(control && brokers.length, 'run through run.sh: BROKER_SIM_CONTROL and BROKER_SIM_BOOTSTRAP');
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page.setDefaultTimeout(WAIT);
  // A script error or a Content-Security-Policy violation in the page fails the suite.
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|SyntaxError|TypeError/.test(m.text())) problems.push(m.text());
  });
  kafka = new Kafka({ clientId: 'console-tests', brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  admin = kafka.admin();
  await admin.connect();
  producer = kafka.producer();
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await browser?.close();
  assert.deepEqual(problems, [], 'the page logged no script or CSP errors');
});

async function open(hash) {
  await page.goto(`${control}/${hash}`);
}

async function screenshot(name) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  // Toasts come and go, and the pointer leaves a hovered row: leave both out so the
  // pictures show the page itself.
  await page.evaluate(() => document.getElementById('toasts').replaceChildren());
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

/** The text of the cell `col` (data-col) in every row of the partition table. */
const leaders = () => page.locator('tr[data-partition] td[data-col=leader]').allTextContents();

test('the overview shows the brokers, and a topic created by kafkajs appears in the list', async () => {
  await open('#/');
  await page.getByRole('table', { name: 'Brokers' }).getByText('controller').waitFor();
  assert.equal(await page.getByRole('table', { name: 'Brokers' }).locator('tbody tr').count(), brokers.length);
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
  await page.locator('.stat', { hasText: 'topics' }).getByText('1', { exact: true }).waitFor();
  await screenshot('overview');
  await page.getByRole('link', { name: 'Topics', exact: true }).click();
  await page.getByRole('link', { name: TOPIC }).waitFor();
  await page.getByRole('link', { name: TOPIC }).click();
  await page.getByRole('table', { name: 'Partitions' }).locator('tbody tr').nth(2).waitFor();
  assert.equal((await leaders()).length, 3);
});

test('records produced by kafkajs are shown in the message browser, as text and as JSON', async () => {
  await producer.send({
    topic: TOPIC,
    messages: [1, 2, 3, 4, 5].map((n) => ({
      key: `order-${n}`, value: JSON.stringify({ order: n, item: 'tea' }), headers: { source: 'kafkajs' },
    })),
  });
  await open(`#/topics/${TOPIC}`);
  await page.locator('.stat', { hasText: 'records in' }).getByText('5', { exact: true }).waitFor();
  await screenshot('topic');
  await open(`#/messages?topic=${TOPIC}`);
  const rows = page.getByRole('table', { name: 'Records' }).locator('tbody tr');
  await page.getByText('5 records').waitFor();
  assert.equal(await rows.count(), 5);
  await page.locator('td', { hasText: 'order-3' }).first().waitFor();
  await page.locator('td.value', { hasText: '{"order":3,"item":"tea"}' }).waitFor();
  await page.getByText('source: kafkajs').first().waitFor();
  await page.getByLabel('Show as').selectOption('json');
  await page.locator('td.value pre', { hasText: '"order": 3,' }).waitFor();
  await page.getByLabel('Show as').selectOption('hex');
  await page.locator('td.value pre', { hasText: '7b 22 6f 72 64 65 72' }).first().waitFor();
  await page.getByLabel('Show as').selectOption('json');
  await screenshot('messages');
});

test('a record produced from the form is read back by a kafkajs consumer', async () => {
  await open(`#/messages?topic=${TOPIC}`);
  await page.getByText('5 records').waitFor();
  await page.getByLabel('Key').fill('from-console');
  await page.getByLabel('Value (empty: a tombstone)').fill('hello from the browser');
  await page.getByLabel('Headers (k=v, one a line)').fill('source=console');
  await page.getByRole('button', { name: 'Produce' }).click();
  await page.locator('.toast', { hasText: 'produced to partition' }).waitFor();
  await page.getByText('6 records').waitFor();

  const consumer = kafka.consumer({ groupId: 'console-form-reader' });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const seen = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no record from the form within the deadline')), WAIT);
    consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() === 'from-console') { clearTimeout(timer); resolve(message); }
      },
    });
  });
  await consumer.disconnect();
  assert.equal(seen.value.toString(), 'hello from the browser');
  assert.equal(seen.headers.source.toString(), 'console');
});

test('a group consumed by kafkajs shows its member and its lag', async () => {
  const consumer = kafka.consumer({ groupId: GROUP });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: async () => {} });
  try {
    await open(`#/groups/${GROUP}`);
    await page.getByRole('table', { name: 'Members' })
      .getByRole('cell', { name: 'console-tests', exact: true }).waitFor();
    // Everything read and committed: no lag. Then, paused, three more records are lag.
    await page.getByTestId('total-lag').getByText('0', { exact: true }).waitFor();
    consumer.pause([{ topic: TOPIC }]);
    await producer.send({ topic: TOPIC, messages: [7, 8, 9].map((n) => ({ key: `late-${n}`, value: `v${n}` })) });
    await page.getByTestId('total-lag').getByText('3', { exact: true }).waitFor();
    await page.getByRole('table', { name: 'Lag per partition' }).locator('tbody tr').nth(2).waitFor();
    if (shots) {
      // A few more samples make the picture's lag chart show a line, not a corner.
      await page.getByText(/last ([6-9]|\d\d) s/).waitFor();
      await screenshot('groups');
    }
    await open('#/groups');
    const row = page.getByRole('table', { name: 'Consumer groups' }).locator('tr', { hasText: GROUP });
    await row.getByText('Stable').waitFor();
  } finally {
    await consumer.disconnect();
  }
});

test('stopping a broker by its button moves its partitions\' leaders, and it starts again', async () => {
  const described = await (await fetch(`${control}/v1/topics/${TOPIC}`)).json();
  const victim = String(described.partitions[0].leader);
  await open('#/failures');
  await page.getByRole('button', { name: `stop broker ${victim}`, exact: true }).click();
  await page.locator(`tr[data-broker="${victim}"]`).getByText('stopped').waitFor();
  await open(`#/topics/${TOPIC}`);
  await page.waitForFunction((id) => {
    const cells = [...document.querySelectorAll('tr[data-partition] td[data-col=leader]')];
    return cells.length === 3 && cells.every((c) => c.textContent !== id);
  }, victim, { timeout: WAIT });
  assert.ok(!(await leaders()).includes(victim));
  await open('#/failures');
  await page.getByRole('button', { name: `start broker ${victim}`, exact: true }).click();
  await page.locator(`tr[data-broker="${victim}"]`).getByText('up').waitFor();
  await page.locator('.toast', { hasText: `broker ${victim}: start done` }).waitFor();
});

test('a fault added from the form counts its hits as kafkajs sends produces', async () => {
  await open('#/failures');
  await page.getByLabel('API(s), comma-separated').fill('Produce');
  await page.getByLabel('Topic', { exact: true }).fill(TOPIC);
  await page.getByLabel('Action', { exact: true }).selectOption('error');
  await page.getByLabel('Error code', { exact: true }).fill('NOT_LEADER_OR_FOLLOWER');
  await page.getByLabel('Times', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Add fault' }).click();
  const rule = page.getByRole('table', { name: 'Fault rules' }).locator('tbody tr').first();
  await rule.getByText('api=Produce').waitFor();
  assert.equal(await rule.locator('td[data-col=hits]').textContent(), '0');
  // kafkajs retries a NOT_LEADER_OR_FOLLOWER: the first two tries hit the rule, the third lands.
  await producer.send({ topic: TOPIC, messages: [{ key: 'after-fault', value: 'x' }] });
  await rule.locator('td[data-col=hits]').getByText('2', { exact: true }).waitFor();
  await rule.getByText('spent').waitFor();
  await screenshot('failures');
});

test('values in the Confluent wire format are shown decoded by the registry, and "from timestamp" reads from a time', async () => {
  // A JSON Schema registered as a Confluent client would, then framed values (magic byte,
  // schema id, JSON) from kafkajs: one that matches the schema, one that does not, and one
  // naming an id the registry never gave.
  const topic = 'console-events';
  const schema = { type: 'object', properties: { id: { type: 'string' }, item: { type: 'string' } }, required: ['id'] };
  const registered = await fetch(`${control}/subjects/${topic}-value/versions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(schema) }),
  });
  assert.equal(registered.status, 200);
  const { id } = await registered.json();
  const framed = (schemaId, value) => {
    const header = Buffer.alloc(5);
    header.writeInt32BE(schemaId, 1);
    return Buffer.concat([header, Buffer.from(JSON.stringify(value))]);
  };
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await producer.send({ topic, acks: -1, messages: [
    { key: 'e-1', value: framed(id, { id: 'e-1', item: 'tea' }), timestamp: '1700000000000' },
    { key: 'e-2', value: framed(id, { item: 'no id' }), timestamp: '1700000001000' },
    { key: 'e-3', value: framed(999, { id: 'e-3' }), timestamp: '1700000002000' },
  ] });

  await open(`#/messages?topic=${topic}`);
  await page.getByText('3 records').waitFor();
  await page.getByLabel('Show as').selectOption('schema');
  await page.getByText(`schema ${id} · ${topic}-value · JSON`).first().waitFor();
  await page.locator('td.value pre', { hasText: '"item": "tea"' }).waitFor();
  await page.locator('td.value', { hasText: 'required' }).first().waitFor();
  await page.locator('td.value', { hasText: '999' }).first().waitFor();
  await screenshot('messages-schema');

  // From the second record's time on: two records.
  const from = new Date(1_700_000_001_000);
  const local = new Date(from.getTime() - from.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
  await page.getByLabel('From timestamp').fill(local);
  await page.getByRole('button', { name: 'Load' }).click();
  await page.getByText('2 records').waitFor();

  // The schemas page lists the subject and shows its schema.
  await open(`#/schemas/${topic}-value`);
  await page.getByRole('link', { name: `${topic}-value` }).waitFor();
  await page.getByLabel('Schema text').getByText('"required"').waitFor();
  await screenshot('schemas');
});

test('the requests page lists what kafkajs sent', async () => {
  await open('#/requests');
  await page.locator('td', { hasText: 'Produce v' }).first().waitFor();
  await page.locator('td', { hasText: 'console-tests' }).first().waitFor();
  await screenshot('requests');
});

test('in a narrow window every page fits its width and the navigation still works', async () => {
  const narrow = await browser.newPage({ viewport: { width: 390, height: 800 } });
  try {
    for (const hash of ['#/', '#/topics', `#/topics/${TOPIC}`, `#/messages?topic=${TOPIC}`, '#/groups', '#/failures', '#/requests', '#/schemas']) {
      await narrow.goto(`${control}/${hash}`);
      await narrow.locator('main h1').first().waitFor();
      const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${hash} is ${overflow}px wider than a 390px window`);
    }
    await narrow.getByRole('link', { name: 'Failures' }).click();
    await narrow.getByRole('heading', { name: 'Failures', level: 1 }).waitFor();
  } finally {
    await narrow.close();
  }
});
