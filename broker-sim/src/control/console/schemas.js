// Schemas: the embedded Confluent-compatible schema registry (`/subjects`,
// `/subjects/{s}/versions/{v}`), its subjects, their versions and the schema text. A
// build without the registry answers 404 on `/subjects`, shown as "no schema registry".
import { get, seg } from './api.js';
import { badge, h, renderIf, table } from './ui.js';

export default {
  title: () => 'Schemas',
  mount(root, route) {
    const list = h('div');
    const detail = h('div');
    root.append(h('h1', {}, 'Schemas'),
      h('div', { class: 'grid' },
        h('section', { class: 'card', 'aria-labelledby': 'subjects-h' }, h('h2', { id: 'subjects-h' }, 'Subjects'), list),
        h('section', { class: 'card', 'aria-labelledby': 'schema-h' }, h('h2', { id: 'schema-h' }, 'Schema'), detail)));
    const chosen = route.name;
    let version = route.query.get('version');

    async function refresh() {
      let subjects;
      try {
        subjects = await get('/subjects', { quiet: [404] });
      } catch (e) {
        if (e.status !== 404) throw e;
        renderIf(list, 'none', () => h('p', { class: 'muted' }, 'No schema registry in this broker-sim.'));
        return;
      }
      const config = await get('/config', { quiet: [404] }).catch(() => null);
      renderIf(list, [subjects, config], () => [
        config?.compatibilityLevel ? h('p', { class: 'muted' }, 'Compatibility: ', badge(config.compatibilityLevel)) : null,
        subjects.length === 0 ? h('p', { class: 'muted' }, 'No subjects registered yet.')
          : h('ul', {}, subjects.map((s) => h('li', {}, h('a', {
            href: `#/schemas/${seg(s)}`, 'aria-current': s === chosen ? 'true' : null,
          }, s)))),
      ]);
      if (!chosen) return;
      const versions = await get(`/subjects/${seg(chosen)}/versions`);
      const shown = version ?? String(versions.at(-1));
      const schema = await get(`/subjects/${seg(chosen)}/versions/${seg(shown)}`);
      renderIf(detail, [versions, schema], () => [
        h('p', {}, 'Versions: ', versions.map((v) => [h('a', {
          href: `#/schemas/${seg(chosen)}?version=${v}`, 'aria-current': String(v) === String(schema.version) ? 'true' : null,
        }, `v${v}`), ' '])),
        table(['Subject', '#Version', '#Id', 'Type'], [h('tr', {}, h('td', {}, schema.subject),
          h('td', { class: 'num' }, schema.version), h('td', { class: 'num' }, schema.id),
          h('td', {}, schema.schemaType ?? 'AVRO'))]),
        h('pre', { 'aria-label': 'Schema text' }, pretty(schema.schema)),
        schema.references?.length ? h('p', {}, 'References: ',
          schema.references.map((r) => `${r.name} → ${r.subject} v${r.version}`).join(', ')) : null,
      ]);
    }
    return { refresh };
  },
};

/** Avro and JSON schemas are JSON text: indent them; Protobuf text is shown as it is. */
function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}
