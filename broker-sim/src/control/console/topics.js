// Topics: the list (with create and delete), and one topic's partitions (leader, replicas,
// ISR, offsets, traffic) and config overrides, which can be edited in place.
import { del, get, post, seg } from './api.js';
import { button, bytes, h, num, onSubmit, renderIf, table, toast } from './ui.js';

export const topicList = {
  title: () => 'Topics',
  mount(root) {
    const list = h('div');
    const create = h('form', { class: 'row', 'aria-label': 'Create a topic' },
      h('label', {}, 'Name', h('input', { name: 'name', required: true, autocomplete: 'off' })),
      h('label', {}, 'Partitions', h('input', { name: 'partitions', type: 'number', min: '1', value: '3' })),
      h('label', {}, 'Replication factor',
        h('input', { name: 'replication_factor', type: 'number', min: '1', placeholder: 'default' })),
      h('label', {}, 'Configs (k=v, one a line)', h('textarea', { name: 'configs', rows: '1' })),
      h('button', { type: 'submit' }, 'Create topic'));
    onSubmit(create, async (f) => {
      const body = { name: f.name, partitions: Number(f.partitions ?? -1), configs: parseConfigs(f.configs) };
      if (f.replication_factor) body.replication_factor = Number(f.replication_factor);
      await post('/v1/topics', body);
      toast(`created topic ${f.name}`);
      create.reset();
      refresh();
    });
    root.append(h('h1', {}, 'Topics'),
      h('section', { class: 'card', 'aria-labelledby': 'new-topic-h' },
        h('h2', { id: 'new-topic-h' }, 'New topic'), create),
      h('section', { class: 'card', 'aria-labelledby': 'topics-h' },
        h('h2', { id: 'topics-h' }, 'All topics'), list));

    async function refresh() {
      const { topics } = await get('/v1/topics');
      // One describe per topic gives the partition count and traffic for the list.
      const described = await Promise.all(topics.map((t) => get(`/v1/topics/${seg(t)}`, { quiet: [404] })
        .catch(() => null)));
      const shown = described.filter(Boolean).map((t) => ({
        name: t.name, partitions: t.partitions.length, stats: t.stats,
        records: t.partitions.reduce((n, p) => n + p.high_watermark - p.log_start_offset, 0),
        offline: t.partitions.filter((p) => p.leader < 0).length,
      }));
      renderIf(list, shown, () => shown.length === 0
        ? h('p', { class: 'muted' }, 'No topics yet.')
        : table(['Topic', '#Partitions', '#Records', '#Bytes in', '#Bytes out', ''], shown.map((t) =>
          h('tr', {},
            h('td', {}, h('a', { href: `#/topics/${seg(t.name)}` }, t.name),
              t.offline ? h('span', { class: 'badge bad' }, `${t.offline} offline`) : null),
            num(t.partitions), num(t.records), num(bytes(t.stats.bytes_in)), num(bytes(t.stats.bytes_out)),
            h('td', {},
              h('a', { href: `#/messages?topic=${seg(t.name)}` }, 'messages'), ' ',
              button('Delete', async () => {
                if (!confirm(`Delete topic ${t.name} and all its records?`)) return;
                await del(`/v1/topics/${seg(t.name)}`);
                toast(`deleted topic ${t.name}`);
                refresh();
              }, { kind: 'danger', 'aria-label': `Delete topic ${t.name}` }))))));
    }
    return { refresh };
  },
};

export const topicDetail = {
  title: (route) => `Topic ${route.name}`,
  mount(root, route) {
    const topic = route.name;
    const summary = h('div', { class: 'stats' });
    const parts = h('div');
    const configs = h('div');
    const edit = h('form', { class: 'row', 'aria-label': 'Set a config' },
      h('label', {}, 'Config', h('input', { name: 'key', required: true, list: 'topic-config-names' })),
      h('label', {}, 'Value', h('input', { name: 'value', required: true })),
      h('button', { type: 'submit' }, 'Set'),
      h('datalist', { id: 'topic-config-names' }, CONFIG_NAMES.map((n) => h('option', { value: n }))));
    onSubmit(edit, async ({ key, value }) => {
      await post(`/v1/topics/${seg(topic)}/configs`, { configs: { [key]: value } });
      toast(`${key} = ${value}`);
      edit.reset();
      refresh();
    });
    root.append(
      h('p', {}, h('a', { href: '#/topics' }, '← Topics'), ' · ',
        h('a', { href: `#/messages?topic=${seg(topic)}` }, 'Browse its messages →')),
      h('h1', {}, 'Topic ', h('code', {}, topic)),
      summary,
      h('section', { class: 'card', 'aria-labelledby': 'partitions-h' },
        h('h2', { id: 'partitions-h' }, 'Partitions'), parts),
      h('section', { class: 'card', 'aria-labelledby': 'configs-h' },
        h('h2', { id: 'configs-h' }, 'Config overrides'), configs, edit));

    async function refresh() {
      const t = await get(`/v1/topics/${seg(topic)}`);
      renderIf(summary, [t.stats, t.misplaced], () => [
        stat(t.stats.records_in, 'records in'), stat(bytes(t.stats.bytes_in), 'bytes in'),
        stat(t.stats.records_out, 'records out'), stat(bytes(t.stats.bytes_out), 'bytes out'),
        t.misplaced ? stat(t.misplaced, 'misplaced keyed records') : null,
      ]);
      renderIf(parts, t.partitions, () => table(
        ['#Partition', '#Leader', 'Replicas', 'ISR', '#Epoch', '#Log start', '#High watermark', '#LSO',
          '#Records in', '#Bytes in', '#Records out'],
        t.partitions.map((p) => h('tr', { 'data-partition': p.partition },
          num(p.partition),
          h('td', { class: 'num', 'data-col': 'leader' }, p.leader < 0 ? h('span', { class: 'badge bad' }, 'none') : p.leader),
          h('td', {}, p.replicas.join(', ')),
          h('td', {}, p.isr.join(', '),
            p.isr.length < p.replicas.length ? [' ', h('span', { class: 'badge warn' }, 'under-replicated')] : null),
          num(p.leader_epoch), num(p.log_start_offset), num(p.high_watermark), num(p.last_stable_offset),
          num(p.stats.records_in), num(bytes(p.stats.bytes_in)), num(p.stats.records_out))),
        'Partitions'));
      const entries = Object.entries(t.configs);
      renderIf(configs, t.configs, () => entries.length === 0
        ? h('p', { class: 'muted' }, 'None: every config is the cluster default.')
        : table(['Config', 'Value', ''], entries.map(([k, v]) => h('tr', {},
          h('td', { class: 'mono' }, k), h('td', { class: 'mono' }, v),
          h('td', {}, button('Remove', async () => {
            await post(`/v1/topics/${seg(topic)}/configs`, { configs: { [k]: null } });
            toast(`${k} back to its default`);
            refresh();
          }, { kind: 'secondary', 'aria-label': `Remove override ${k}` }))))));
    }
    return { refresh };
  },
};

function stat(value, label) {
  return h('div', { class: 'stat' }, h('b', {}, value), h('span', {}, label));
}

function parseConfigs(text = '') {
  const out = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

// Suggestions only: the broker validates names and values.
const CONFIG_NAMES = ['cleanup.policy', 'retention.ms', 'retention.bytes', 'segment.bytes',
  'max.message.bytes', 'min.insync.replicas', 'message.timestamp.type', 'compression.type',
  'delete.retention.ms', 'min.compaction.lag.ms', 'unclean.leader.election.enable'];
