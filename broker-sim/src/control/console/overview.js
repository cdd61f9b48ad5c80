// Overview: the brokers (up, stopped or isolated; which one is the controller), how many
// topics and groups there are, and the cluster clock, with an "advance" control when the
// clock is manual (the binary's --manual-clock).
import { get, post } from './api.js';
import { badge, h, num, onSubmit, renderIf, table, time, toast } from './ui.js';

export function brokerState(b) {
  if (!b.up) return badge('stopped', 'bad');
  if (b.isolated) return badge('isolated', 'warn');
  return badge('up', 'ok');
}

export default {
  title: () => 'Overview',
  mount(root) {
    const counts = h('div', { class: 'stats', 'aria-label': 'Counts' });
    const brokers = h('div');
    const clock = h('div');
    const advance = h('form', { class: 'row', hidden: true, 'aria-label': 'Advance the clock' },
      h('label', {}, 'Advance by (ms)',
        h('input', { name: 'ms', type: 'number', min: '0', value: '1000', required: true })),
      h('button', { type: 'submit' }, 'Advance'));
    onSubmit(advance, async ({ ms }) => {
      const now = await post('/v1/clock/advance', { ms: Number(ms) });
      toast(`clock now ${time(now.now_ms)}`);
      refresh();
    });
    root.append(
      h('h1', {}, 'Overview'),
      counts,
      h('div', { class: 'grid' },
        h('section', { class: 'card', 'aria-labelledby': 'brokers-h' },
          h('h2', { id: 'brokers-h' }, 'Brokers'), brokers),
        h('section', { class: 'card', 'aria-labelledby': 'clock-h' },
          h('h2', { id: 'clock-h' }, 'Clock'), clock, advance)));

    async function refresh() {
      const [cluster, topics, groups, now] = await Promise.all([
        get('/v1/cluster'), get('/v1/topics'), get('/v1/groups'), get('/v1/clock')]);
      const up = cluster.brokers.filter((b) => b.up && !b.isolated).length;
      renderIf(counts, [cluster.brokers.length, up, topics.topics.length, groups.groups.length], () => [
        stat(`${up}/${cluster.brokers.length}`, 'brokers up'),
        stat(topics.topics.length, 'topics', '#/topics'),
        stat(groups.groups.length, 'consumer groups', '#/groups'),
      ]);
      renderIf(brokers, cluster, () => [
        h('p', { class: 'muted' }, 'Cluster ', h('code', {}, cluster.cluster_id), ' · bootstrap ',
          h('code', {}, cluster.bootstrap_servers)),
        table(['#Broker', 'Address', 'Rack', 'State', 'Role'], cluster.brokers.map((b) => h('tr', {},
          num(b.id), h('td', { class: 'mono' }, `${b.host}:${b.port}`), h('td', {}, b.rack ?? '–'),
          h('td', {}, brokerState(b)),
          h('td', {}, b.id === cluster.controller ? badge('controller') : ''))), 'Brokers'),
      ]);
      renderIf(clock, now, () => h('p', {},
        h('span', { class: 'mono', 'data-testid': 'clock' }, time(now.now_ms)), ' ',
        now.manual ? badge('manual', 'warn') : badge('system clock')));
      advance.hidden = !now.manual;
    }
    return { refresh };
  },
};

function stat(value, label, href) {
  const body = [h('b', {}, value), h('span', {}, label)];
  return href ? h('a', { class: 'stat', href }, body) : h('div', { class: 'stat' }, body);
}
