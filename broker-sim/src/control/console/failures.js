// Failures: broker lifecycle buttons (stop, start, restart, isolate, heal), the fault rules
// with their hit counts, a form for the common rules, and removing them. A rule's JSON is
// the serde form of `broker_sim::Fault`: {"match": {...}, "action": {"type": ...},
// "times": N, "probability": p}.
import { del, get, post } from './api.js';
import { brokerState } from './overview.js';
import { badge, button, h, num, onSubmit, renderIf, table, toast } from './ui.js';

const ACTIONS = {
  error: 'answer with an error code',
  latency: 'delay the answer (ms)',
  throttle: 'throttle (ms)',
  close_connection: 'close the connection',
  no_response: 'never answer',
  apply_then_error: 'process, then answer an error',
  apply_then_no_response: 'process, then never answer',
  apply_then_close: 'process, then close',
};
const APIS = ['Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator',
  'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup', 'ApiVersions', 'CreateTopics', 'DeleteTopics',
  'InitProducerId', 'AddPartitionsToTxn', 'EndTxn', 'TxnOffsetCommit', 'ConsumerGroupHeartbeat'];
const CODES = ['NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'NOT_ENOUGH_REPLICAS', 'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'OFFSET_OUT_OF_RANGE', 'CORRUPT_MESSAGE', 'MESSAGE_TOO_LARGE',
  'NETWORK_EXCEPTION', 'KAFKA_STORAGE_ERROR', 'THROTTLING_QUOTA_EXCEEDED', 'UNKNOWN_SERVER_ERROR'];

export default {
  title: () => 'Failures',
  mount(root) {
    const brokers = h('div');
    const faults = h('div');
    const brokerSelect = h('select', { name: 'broker', 'aria-label': 'Broker' }, h('option', { value: '' }, 'any'));
    const form = h('form', { class: 'row', 'aria-label': 'Add a fault rule' },
      h('label', {}, 'API(s), comma-separated', h('input', { name: 'api', list: 'fault-apis', placeholder: 'any' })),
      h('label', {}, 'Topic', h('input', { name: 'topic', placeholder: 'any' })),
      h('label', {}, 'Partition', h('input', { name: 'partition', type: 'number', min: '0', placeholder: 'any' })),
      h('label', {}, 'Broker', brokerSelect),
      h('label', {}, 'Group', h('input', { name: 'group', placeholder: 'any' })),
      h('label', {}, 'Client id', h('input', { name: 'client_id', placeholder: 'any' })),
      h('label', {}, 'Action', h('select', { name: 'action', 'aria-label': 'Action' },
        Object.entries(ACTIONS).map(([v, text]) => h('option', { value: v }, text)))),
      h('label', {}, 'Error code', h('input', { name: 'code', class: 'wide', list: 'fault-codes', value: 'NOT_LEADER_OR_FOLLOWER' })),
      h('label', {}, 'Milliseconds', h('input', { name: 'ms', type: 'number', min: '0', value: '500' })),
      h('label', {}, 'Times', h('input', { name: 'times', type: 'number', min: '1', placeholder: 'until removed' })),
      h('label', {}, 'Probability', h('input', { name: 'probability', type: 'number', min: '0', max: '1', step: '0.05', placeholder: '1' })),
      h('button', { type: 'submit' }, 'Add fault'),
      h('datalist', { id: 'fault-apis' }, APIS.map((a) => h('option', { value: a }))),
      h('datalist', { id: 'fault-codes' }, CODES.map((c) => h('option', { value: c }))));
    // Only the fields the chosen action uses are shown.
    const syncFields = () => {
      const action = form.elements.action.value;
      form.elements.code.closest('label').hidden = !action.endsWith('error');
      form.elements.ms.closest('label').hidden = !['latency', 'throttle'].includes(action);
    };
    form.elements.action.addEventListener('change', syncFields);
    syncFields();
    onSubmit(form, async (f) => {
      const match = {};
      for (const name of ['topic', 'group', 'client_id']) if (f[name]) match[name] = f[name];
      if (f.partition) match.partition = Number(f.partition);
      if (f.broker) match.broker = Number(f.broker);
      const action = { type: f.action };
      if (f.action.endsWith('error')) action.code = f.code;
      if (f.action === 'latency' || f.action === 'throttle') action.ms = Number(f.ms ?? 0);
      const rule = { action };
      if (f.times) rule.times = Number(f.times);
      if (f.probability) rule.probability = Number(f.probability);
      // A selector names one API: several APIs are several rules.
      const apis = (f.api ?? '').split(',').map((a) => a.trim()).filter(Boolean);
      const ids = [];
      for (const api of apis.length ? apis : [null]) {
        const answer = await post('/v1/faults', { ...rule, match: api ? { ...match, api } : match });
        ids.push(answer.id);
      }
      toast(`added fault ${ids.join(', ')}`);
      refresh();
    });
    root.append(h('h1', {}, 'Failures'),
      h('section', { class: 'card', 'aria-labelledby': 'lifecycle-h' },
        h('h2', { id: 'lifecycle-h' }, 'Brokers'), brokers),
      h('section', { class: 'card', 'aria-labelledby': 'faults-h' },
        h('h2', { id: 'faults-h' }, 'Fault rules'), faults),
      h('section', { class: 'card', 'aria-labelledby': 'new-fault-h' },
        h('h2', { id: 'new-fault-h' }, 'New fault rule'), form));

    async function act(id, action) {
      await post(`/v1/brokers/${id}/${action}`);
      toast(`broker ${id}: ${action} done`);
      refresh();
    }

    async function refresh() {
      const [cluster, { faults: rules }] = await Promise.all([get('/v1/cluster'), get('/v1/faults')]);
      renderIf(brokers, cluster.brokers, () => table(['#Broker', 'State', 'Actions'], cluster.brokers.map((b) =>
        h('tr', { 'data-broker': b.id }, num(b.id), h('td', {}, brokerState(b)),
          h('td', {}, ['stop', 'start', 'restart', 'isolate', 'heal'].map((a) => button(a, () => act(b.id, a), {
            kind: a === 'stop' ? 'danger' : 'secondary', 'aria-label': `${a} broker ${b.id}`,
            disabled: (a === 'stop' || a === 'isolate') ? !b.up || (a === 'isolate' && b.isolated)
              : a === 'start' ? b.up : a === 'heal' ? !b.isolated : false,
          }))))), 'Brokers'));
      renderIf(brokerSelect, cluster.brokers.map((b) => b.id), () => [h('option', { value: '' }, 'any'),
        ...cluster.brokers.map((b) => h('option', { value: b.id }, b.id))]);
      renderIf(faults, rules, () => rules.length === 0
        ? h('p', { class: 'muted' }, 'No fault rules.')
        : table(['#Id', 'Match', 'Action', '#Times', '#Hits', ''], rules.map((r) => {
          const spent = r.times !== undefined && r.hits >= r.times;
          return h('tr', { 'data-fault': r.id }, num(r.id),
            h('td', { class: 'mono' }, describeMatch(r.match)),
            h('td', { class: 'mono' }, describeAction(r.action)),
            num(r.times ?? '∞'),
            h('td', { class: 'num', 'data-col': 'hits' }, r.hits),
            h('td', {}, spent ? badge('spent') : button('Remove', async () => {
              await del(`/v1/faults/${r.id}`);
              toast(`removed fault ${r.id}`);
              refresh();
            }, { kind: 'secondary', 'aria-label': `Remove fault ${r.id}` })));
        }), 'Fault rules'));
    }
    return { refresh };
  },
};

function describeMatch(match = {}) {
  const parts = Object.entries(match).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(' ') : 'every request';
}

function describeAction(action) {
  const { type, ...rest } = action;
  const args = Object.values(rest);
  return args.length ? `${type} ${args.join(' ')}` : type;
}
