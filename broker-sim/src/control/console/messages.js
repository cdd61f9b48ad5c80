// The message browser: pages through one partition (or all) from an offset or a
// timestamp, tails new records by polling from the last offset seen, shows keys and values
// as text, pretty JSON, hex or — for the Confluent wire format, when the API decodes it
// (`value_decoded`, `key_decoded`) — the decoded JSON with its schema id and subject, and
// produces a record from a form.
import { get, post, seg } from './api.js';
import { badge, h, onSubmit, renderIf, table, time, toast } from './ui.js';

// Tailing keeps the newest rows only, so a busy topic does not grow the page forever.
const MAX_ROWS = 500;

export default {
  title: (route) => (route.query.get('topic') ? `Messages of ${route.query.get('topic')}` : 'Messages'),
  mount(root, route) {
    const topicSelect = h('select', { name: 'topic', id: 'browse-topic', 'aria-label': 'Topic' });
    const partitionSelect = h('select', { name: 'partition', id: 'browse-partition', 'aria-label': 'Partition' }, h('option', { value: '' }, 'all'));
    const browse = h('form', { class: 'row', 'aria-label': 'Browse records' },
      h('label', {}, 'Topic', topicSelect),
      h('label', {}, 'Partition', partitionSelect),
      h('label', {}, 'From offset', h('input', { name: 'offset', type: 'number', min: '0', value: route.query.get('offset') ?? '0' })),
      h('label', {}, 'From timestamp', h('input', { name: 'timestamp', type: 'datetime-local', step: '0.001' })),
      h('label', {}, 'Limit', h('input', { name: 'limit', type: 'number', min: '1', max: '1000', value: '50' })),
      h('label', {}, 'Show as', h('select', { name: 'mode', id: 'browse-mode', 'aria-label': 'Show as' },
        ['text', 'json', 'hex', 'schema'].map((m) => h('option', { value: m }, m)))),
      h('button', { type: 'submit' }, 'Load'),
      h('button', { type: 'button', class: 'secondary', id: 'next-page', onclick: () => nextPage() }, 'Next page'),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'tail', id: 'tail' }), 'Live tail'));
    const info = h('p', { class: 'muted', role: 'status' });
    const list = h('div');
    const produce = h('form', { class: 'row', 'aria-label': 'Produce a record' },
      h('label', {}, 'Partition', h('input', { name: 'partition', type: 'number', min: '0', placeholder: 'by key' })),
      h('label', {}, 'Key', h('input', { name: 'key', autocomplete: 'off' })),
      h('label', { class: 'value' }, 'Value (empty: a tombstone)', h('textarea', { name: 'value', rows: '2' })),
      h('label', {}, 'Headers (k=v, one a line)', h('textarea', { name: 'headers', rows: '2' })),
      h('button', { type: 'submit' }, 'Produce'));
    root.append(h('h1', {}, 'Messages'),
      h('section', { class: 'card', 'aria-label': 'Which records' }, browse, info),
      h('section', { class: 'card', 'aria-labelledby': 'records-h' }, h('h2', { id: 'records-h' }, 'Records'), list),
      h('section', { class: 'card', 'aria-labelledby': 'produce-h' }, h('h2', { id: 'produce-h' }, 'Produce'), produce));

    // What is shown: the rows, and per partition the offset to tail from.
    let rows = [];
    let next = new Map();
    let partitionCount = 0;

    const form = () => Object.fromEntries(new FormData(browse));
    const topic = () => topicSelect.value;
    const mode = () => browse.elements.mode.value;
    const partitions = () => (form().partition === '' ? [...Array(partitionCount).keys()] : [Number(form().partition)]);

    /** The query shared by a load and the tail: partition, timestamp, limit. */
    function query(partition, offset) {
      const f = form();
      const q = new URLSearchParams({ offset: String(offset), limit: f.limit || '50' });
      if (partition !== null) q.set('partition', String(partition));
      // The server's `timestamp` filter keeps records at or after it (newer builds only).
      if (f.timestamp) q.set('timestamp', String(new Date(f.timestamp).getTime()));
      return q;
    }

    async function load(offset = Number(form().offset || 0)) {
      if (!topic()) return;
      const single = form().partition === '' ? null : Number(form().partition);
      const answer = await get(`/v1/topics/${seg(topic())}/records?${query(single, offset)}`);
      rows = answer.records;
      next = new Map(partitions().map((p) => [p, offset]));
      for (const r of rows) next.set(r.partition, Math.max(next.get(r.partition) ?? 0, r.offset + 1));
      if (single !== null) next.set(single, answer.next_offset);
      draw();
    }

    function nextPage() {
      // A page of one partition continues at its next offset; of all, past the highest shown.
      const single = form().partition !== '';
      const from = single ? next.get(Number(form().partition)) : Math.max(0, ...rows.map((r) => r.offset + 1));
      browse.elements.offset.value = String(from);
      load(from);
    }

    async function tail() {
      const added = [];
      for (const p of partitions()) {
        const answer = await get(`/v1/topics/${seg(topic())}/records?${query(p, next.get(p) ?? 0)}`);
        added.push(...answer.records);
        next.set(p, answer.next_offset);
      }
      if (added.length === 0) return;
      rows = rows.concat(added).slice(-MAX_ROWS);
      draw();
    }

    function draw() {
      const m = mode();
      info.textContent = `${rows.length} record${rows.length === 1 ? '' : 's'}`
        + (form().tail ? ' · tailing' : '');
      renderIf(list, [topic(), m, rows.map((r) => [r.partition, r.offset])], () => rows.length === 0
        ? h('p', { class: 'muted' }, 'No records here.')
        : table(['#Partition', '#Offset', 'Timestamp', 'Key', 'Value', 'Headers'], rows.map((r) =>
          h('tr', { 'data-offset': r.offset, 'data-partition': r.partition },
            h('td', { class: 'num' }, r.partition), h('td', { class: 'num' }, r.offset),
            h('td', { class: 'mono' }, time(r.timestamp)),
            h('td', {}, show(r.key, r.key_encoding, r.key_decoded, m)),
            h('td', { class: 'value' }, show(r.value, r.value_encoding, r.value_decoded, m),
              r.transaction && r.transaction !== 'none' ? badge(r.transaction, 'warn') : null),
            h('td', {}, r.headers.map((hd) => h('div', { class: 'mono' }, `${hd.key}: `,
              inline(hd.value, hd.value_encoding, m)))))), 'Records'));
    }

    async function refresh() {
      const { topics } = await get('/v1/topics');
      renderIf(topicSelect, topics, () => [h('option', { value: '' }, '— choose —'),
        ...topics.map((t) => h('option', { value: t }, t))]);
      const wanted = route.query.get('topic');
      if (!topicSelect.dataset.chosen && wanted && topics.includes(wanted)) {
        topicSelect.value = wanted;
        topicSelect.dataset.chosen = '1';
        await choose();
      }
      if (form().tail && topic()) await tail();
    }

    /** A topic was chosen: its partitions in the select, then its first page. */
    async function choose() {
      if (!topic()) return;
      const described = await get(`/v1/topics/${seg(topic())}`);
      partitionCount = described.partitions.length;
      partitionSelect.replaceChildren(h('option', { value: '' }, 'all'),
        ...described.partitions.map((p) => h('option', { value: p.partition }, p.partition)));
      const p = route.query.get('partition');
      if (p !== null && p < partitionCount) partitionSelect.value = p;
      await load();
    }

    topicSelect.addEventListener('change', () => {
      topicSelect.dataset.chosen = '1';
      location.hash = `#/messages?topic=${seg(topic())}`;
    });
    partitionSelect.addEventListener('change', () => load());
    browse.elements.mode.addEventListener('change', draw);
    browse.elements.tail.addEventListener('change', draw);
    onSubmit(browse, () => load());
    onSubmit(produce, async (f) => {
      if (!topic()) { toast('choose a topic first', 'error'); return; }
      const record = { key: f.key ?? null, value: f.value ?? null, headers: parseHeaders(f.headers) };
      if (f.partition !== undefined) record.partition = Number(f.partition);
      const answer = await post(`/v1/topics/${seg(topic())}/records`, { records: [record] });
      const at = answer.records[0];
      toast(`produced to partition ${at.partition} at offset ${at.offset}`);
      if (!form().tail) await load();
    });
    return { refresh };
  },
};

/** A key, value or header value as the view mode asks. */
function show(text, encoding, decoded, mode) {
  if (text === null || text === undefined) return badge('null', 'info');
  if (mode === 'schema' && decoded) {
    const head = [`schema ${decoded.schema_id}`, decoded.subject, decoded.schema_type].filter(Boolean).join(' · ');
    return h('div', {}, h('div', { class: 'muted' }, head),
      decoded.error ? badge(decoded.error, 'bad') : h('pre', {}, JSON.stringify(decoded.value, null, 2)));
  }
  if (mode === 'hex') return h('pre', {}, hex(text, encoding));
  if (encoding === 'base64') return h('div', {}, badge('binary'), h('pre', {}, text));
  if (mode === 'json') {
    try { return h('pre', {}, JSON.stringify(JSON.parse(text), null, 2)); } catch { /* not JSON */ }
  }
  return h('pre', {}, text);
}

/** A header value: short, so on one line; hex when asked, else text (base64 if binary). */
function inline(text, encoding, mode) {
  if (text === null || text === undefined) return badge('null', 'info');
  return h('code', {}, mode === 'hex' ? hex(text, encoding) : text);
}

function hex(text, encoding) {
  const data = encoding === 'base64'
    ? Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
    : new TextEncoder().encode(text);
  const shown = Array.from(data.slice(0, 1024), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return data.length > 1024 ? `${shown} … (${data.length} bytes)` : shown;
}

function parseHeaders(text = '') {
  return text.split('\n').filter((l) => l.includes('=')).map((l) => {
    const at = l.indexOf('=');
    return { key: l.slice(0, at).trim(), value: l.slice(at + 1) };
  });
}
