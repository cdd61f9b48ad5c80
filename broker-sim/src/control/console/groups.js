// Consumer groups: the list (state, members, lag of each), and one group: its members
// with their assignments (expire one, as if its session ran out), committed offsets and
// lag per partition, a lag chart sampled by this page at each poll, and resetting the
// group's offsets (only while it has no members, as Kafka requires).
import { get, post, seg } from './api.js';
import { badge, button, h, num, onSubmit, renderIf, table, toast } from './ui.js';

// Two minutes of one-second samples.
const SAMPLES = 120;

const stateKind = (s) => ({ Stable: 'ok', Empty: 'info', Dead: 'bad' }[s] ?? 'warn');

export const groupList = {
  title: () => 'Groups',
  mount(root) {
    const list = h('div');
    root.append(h('h1', {}, 'Consumer groups'), h('section', { class: 'card' }, list));
    async function refresh() {
      const { groups } = await get('/v1/groups');
      const described = (await Promise.all(groups.map((g) => get(`/v1/groups/${seg(g)}`, { quiet: [404] })
        .catch(() => null)))).filter(Boolean);
      const shown = described.map((g) => [g.group_id, g.state, g.type, g.members.length, g.total_lag]);
      renderIf(list, shown, () => shown.length === 0
        ? h('p', { class: 'muted' }, 'No consumer groups yet.')
        : table(['Group', 'State', 'Type', '#Members', '#Lag'], shown.map(([id, state, type, members, lag]) =>
          h('tr', {}, h('td', {}, h('a', { href: `#/groups/${seg(id)}` }, id)),
            h('td', {}, badge(state, stateKind(state))), h('td', {}, type ?? '–'), num(members), num(lag))),
        'Consumer groups'));
    }
    return { refresh };
  },
};

export const groupDetail = {
  title: (route) => `Group ${route.name}`,
  mount(root, route) {
    const group = route.name;
    const head = h('div', { class: 'stats' });
    const members = h('div');
    const offsets = h('div');
    const chart = h('div');
    const samples = [];
    const reset = h('form', { class: 'row', 'aria-label': 'Reset offsets' },
      h('label', {}, 'Topic', h('select', { name: 'topic', required: true, 'aria-label': 'Topic' })),
      h('label', {}, 'To', h('select', { name: 'to', 'aria-label': 'To' },
        ['earliest', 'latest', 'offset', 'timestamp'].map((t) => h('option', { value: t }, t)))),
      h('label', {}, 'Offset or timestamp (ms)', h('input', { name: 'at', type: 'number' })),
      h('button', { type: 'submit' }, 'Reset offsets'));
    onSubmit(reset, async ({ topic, to, at }) => {
      const body = { topic };
      if (to === 'earliest' || to === 'latest') body.to = to;
      else body[to] = Number(at ?? 0);
      await post(`/v1/groups/${seg(group)}/reset-offsets`, body);
      toast(`reset ${group} on ${topic}`);
      refresh();
    });
    root.append(h('p', {}, h('a', { href: '#/groups' }, '← Groups')),
      h('h1', {}, 'Group ', h('code', {}, group)), head,
      h('section', { class: 'card', 'aria-labelledby': 'members-h' }, h('h2', { id: 'members-h' }, 'Members'), members),
      h('div', { class: 'grid' },
        h('section', { class: 'card', 'aria-labelledby': 'lag-h' }, h('h2', { id: 'lag-h' }, 'Lag per partition'), offsets),
        h('section', { class: 'card', 'aria-labelledby': 'chart-h' },
          h('h2', { id: 'chart-h' }, 'Total lag over time'), chart)),
      h('section', { class: 'card', 'aria-labelledby': 'reset-h' },
        h('h2', { id: 'reset-h' }, 'Reset offsets'),
        h('p', { class: 'muted' }, 'Only while the group has no members (stop its consumers first).'), reset));

    async function refresh() {
      const [g, lag] = await Promise.all([get(`/v1/groups/${seg(group)}`), get(`/v1/groups/${seg(group)}/lag`)]);
      renderIf(head, [g.state, g.protocol, g.generation, g.coordinator, g.members.length, lag.total_lag], () => [
        h('div', { class: 'stat' }, h('b', {}, badge(g.state, stateKind(g.state))), h('span', {}, 'state')),
        h('div', { class: 'stat' }, h('b', {}, g.members.length), h('span', {}, 'members')),
        h('div', { class: 'stat' }, h('b', { 'data-testid': 'total-lag' }, lag.total_lag), h('span', {}, 'total lag')),
        h('div', { class: 'stat' }, h('b', {}, g.protocol || '–'), h('span', {}, `${g.protocol_type || g.type || ''} protocol`)),
        h('div', { class: 'stat' }, h('b', {}, g.generation ?? g.group_epoch ?? '–'), h('span', {}, 'generation')),
        h('div', { class: 'stat' }, h('b', {}, g.coordinator ?? '–'), h('span', {}, 'coordinator')),
      ]);
      renderIf(members, g.members, () => g.members.length === 0
        ? h('p', { class: 'muted' }, 'No members.')
        : table(['Member', 'Client', 'Host', 'Assignment', ''], g.members.map((m) => h('tr', {},
          h('td', { class: 'mono' }, m.member_id, m.member_id === g.leader ? [' ', badge('leader')] : null),
          h('td', {}, m.client_id), h('td', { class: 'mono' }, m.client_host),
          h('td', {}, Object.entries(m.assignment).map(([t, ps]) => h('div', {}, h('code', {}, t), ` [${ps.join(', ')}]`))),
          h('td', {}, button('Expire', async () => {
            await post(`/v1/groups/${seg(group)}/members/${seg(m.member_id)}/expire`);
            toast(`expired ${m.member_id}`);
            refresh();
          }, { kind: 'secondary', 'aria-label': `Expire member ${m.member_id}` })))), 'Members'));
      renderIf(offsets, lag.partitions, () => table(['Topic', '#Partition', '#Committed', '#End offset', '#Lag'],
        lag.partitions.map((p) => h('tr', {}, h('td', {}, p.topic), num(p.partition), num(p.committed),
          num(p.end_offset), num(p.lag))), 'Lag per partition'));
      const topics = [...new Set(lag.partitions.map((p) => p.topic))];
      renderIf(reset.elements.topic, topics, () => topics.map((t) => h('option', { value: t }, t)));
      samples.push(lag.total_lag);
      if (samples.length > SAMPLES) samples.shift();
      chart.replaceChildren(lagChart(samples),
        h('p', { class: 'muted' }, `now ${lag.total_lag}, peak ${Math.max(...samples)} (last ${samples.length} s)`));
    }
    return { refresh };
  },
};

/** The samples as an SVG polyline, scaled to the largest one. */
function lagChart(values) {
  const width = 300; const height = 100; const max = Math.max(1, ...values);
  // The window fills up over the first two minutes: spread what there is across it.
  const step = width / Math.max(1, values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - (v / max) * (height - 10)).toFixed(1)}`);
  return h('svg:svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': `Total lag over the last ${values.length} seconds; now ${values.at(-1)}, peak ${max}` },
  h('svg:polyline', { points: points.join(' '), 'vector-effect': 'non-scaling-stroke' }));
}
