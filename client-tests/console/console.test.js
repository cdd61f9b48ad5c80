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

test('the schema view shows decoded values with their schema, and "from timestamp" is sent', async () => {
  // The records answer with `value_decoded` (Confluent wire format) and the `timestamp`
  // parameter come from the schema registry work; stubbing the answer pins down what the
  // page does with them whether or not this build has it.
  await page.route(`**/v1/topics/${TOPIC}/records?*`, (route) => route.fulfill({ json: { topic: TOPIC, records: [
      { partition: 0, offset: 0, timestamp: 1_700_000_000_000, key: 'k1', key_encoding: 'utf8',
        value: 'AAAAAAN4', value_encoding: 'base64', headers: [], transaction: 'none',
        value_decoded: { schema_id: 3, subject: 'orders-value', schema_type: 'AVRO', value: { id: 42, item: 'tea' } } },
      { partition: 0, offset: 1, timestamp: 1_700_000_000_001, key: null, key_encoding: null,
        value: 'AAAAAAc=', value_encoding: 'base64', headers: [], transaction: 'none',
        value_decoded: { schema_id: 7, error: 'unknown schema id 7' } },
    ] } }));
  try {
    await open(`#/messages?topic=${TOPIC}`);
    await page.getByText('2 records').waitFor();
    await page.getByLabel('Show as').selectOption('schema');
    await page.getByText('schema 3 · orders-value · AVRO').waitFor();
    await page.locator('td.value pre', { hasText: '"item": "tea"' }).waitFor();
    await page.getByText('unknown schema id 7').waitFor();
    await page.getByLabel('From timestamp').fill('2023-11-14T22:13:20');
    const sent = page.waitForRequest((r) => r.url().includes('timestamp='));
    await page.getByRole('button', { name: 'Load' }).click();
    const query = new URL((await sent).url()).searchParams;
    // The browser's local time, as the input shows it, in ms since the epoch.
    assert.equal(query.get('timestamp'), String(new Date('2023-11-14T22:13:20').getTime()));
  } finally {
    await page.unroute(`**/v1/topics/${TOPIC}/records?*`);
  }
});

test('the requests page lists what kafkajs sent, and the schemas page answers', async () => {
  await open('#/requests');
  await page.locator('td', { hasText: 'Produce v' }).first().waitFor();
  await page.locator('td', { hasText: 'console-tests' }).first().waitFor();
  await screenshot('requests');
  await open('#/schemas');
  // Without the registry the page says so; with it, the subjects list.
  await page.getByText('No schema registry').or(page.getByText('Compatibility')).or(page.getByText('No subjects'))
    .first().waitFor();
  await screenshot('schemas');
});
