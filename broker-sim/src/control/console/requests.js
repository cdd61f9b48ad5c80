// The request log as a live table: the newest requests first, fetched incrementally with
// `since` (the last sequence number seen), filtered by the API's own filters.
import { get } from './api.js';
import { badge, h, onSubmit, renderIf, table, time } from './ui.js';

const MAX_ROWS = 300;

export default {
  title: () => 'Requests',
  mount(root) {
    const filters = h('form', { class: 'row', 'aria-label': 'Filter requests' },
      h('label', {}, 'API', h('input', { name: 'api', placeholder: 'any', list: 'request-apis' })),
      h('label', {}, 'Client id', h('input', { name: 'client_id', placeholder: 'any' })),
      h('label', {}, 'Topic', h('input', { name: 'topic', placeholder: 'any' })),
      h('label', {}, 'Group', h('input', { name: 'group', placeholder: 'any' })),
      h('label', {}, 'Error', h('input', { name: 'error', placeholder: 'any' })),
      h('button', { type: 'submit' }, 'Apply'),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'paused' }), 'Pause'),
      h('datalist', { id: 'request-apis' },
        ['Produce', 'Fetch', 'Metadata', 'OffsetCommit', 'JoinGroup', 'Heartbeat'].map((a) => h('option', { value: a }))));
    // Not a live region: it changes every second and would drown a screen reader.
    const info = h('p', { class: 'muted' });
    const list = h('div');
    root.append(h('h1', {}, 'Requests'), h('section', { class: 'card' }, filters, info),
      h('section', { class: 'card' }, list));

    let rows = [];
    let since = null;
    let applied = new URLSearchParams();
    onSubmit(filters, (f) => {
      applied = new URLSearchParams(Object.entries(f).filter(([k]) => k !== 'paused'));
      rows = [];
      since = null;
      return refresh();
    });

    async function refresh() {
      if (new FormData(filters).get('paused')) return;
      const q = new URLSearchParams(applied);
      // The first fetch takes the newest MAX_ROWS; later ones only what came since.
      if (since === null) q.set('limit', String(MAX_ROWS)); else q.set('since', String(since));
      const answer = await get(`/v1/requests?${q}`);
      since = Math.max(since ?? 0, answer.last_seq);
      rows = answer.requests.slice().reverse().concat(rows).slice(0, MAX_ROWS);
      info.textContent = `${rows.length} shown · ${answer.last_seq} logged`
        + (answer.dropped ? ` · ${answer.dropped} pushed out of the log` : '');
      renderIf(list, rows.map((r) => r.seq), () => rows.length === 0
        ? h('p', { class: 'muted' }, 'No requests yet.')
        : table(['#Seq', 'Time', '#Broker', 'Client', 'API', 'Topics', 'Group', 'Errors', '#Records', '#Latency (µs)'],
          rows.map((r) => h('tr', {}, h('td', { class: 'num' }, r.seq), h('td', { class: 'mono' }, time(r.time_ms)),
            h('td', { class: 'num' }, r.broker), h('td', {}, r.client_id),
            h('td', {}, `${r.api} v${r.api_version}`),
            h('td', {}, r.topics.map((t) => `${t.topic}${t.partitions.length ? `[${t.partitions.join(',')}]` : ''}`).join(' ')),
            h('td', {}, r.group ?? r.transactional_id ?? ''),
            h('td', {}, r.errors.map((e) => badge(e, 'bad')), r.dropped ? badge('dropped', 'warn') : null),
            h('td', { class: 'num' }, r.records ?? ''), h('td', { class: 'num' }, r.latency_us))), 'Requests'));
    }
    return { refresh };
  },
};
