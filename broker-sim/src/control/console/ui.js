// Small DOM helpers shared by the pages: an element builder (no innerHTML, so record
// contents can never inject markup), tables, badges, toasts and number formatting.

/**
 * h('td', {class: 'num'}, 'text', child…): an element. Attributes starting with "on" are
 * listeners; false/null attributes and children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    // An input's value attribute is also what form.reset() goes back to.
    else if (name === 'value' && el.tagName !== 'INPUT' && 'value' in el) el.value = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** A table: `columns` are header labels (a leading '#' right-aligns a numeric column). */
export function table(columns, rows, caption) {
  const heads = columns.map((c) => c.startsWith('#')
    ? h('th', { class: 'num', scope: 'col' }, c.slice(1))
    : h('th', { scope: 'col' }, c));
  return h('div', { class: 'scroll' },
    h('table', {}, caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', {}, h('tr', {}, heads)),
      h('tbody', {}, rows)));
}

export const num = (n) => h('td', { class: 'num' }, n ?? '–');

export const badge = (text, kind = 'info') => h('span', { class: `badge ${kind}` }, text);

/** Replaces `el`'s children, but only when `key` (the data they show) changed: polling
 *  every second must not reset scroll positions, selections or a hovered button. */
export function renderIf(el, key, build) {
  const text = JSON.stringify(key);
  if (el.dataset.key === text) return;
  el.dataset.key = text;
  el.replaceChildren(...[build()].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  // A poll that fails every second would otherwise stack the same message.
  if ([...box.children].some((t) => t.firstChild.textContent === message)) return;
  const close = h('button', { type: 'button', 'aria-label': 'Dismiss' }, '×');
  const item = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : null },
    h('p', {}, message), close);
  close.addEventListener('click', () => item.remove());
  box.append(item);
  // Errors stay longer: they usually need reading.
  setTimeout(() => item.remove(), kind === 'error' ? 12000 : 5000);
  while (box.children.length > 5) box.firstChild.remove();
}

export const bytes = (n) => {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
};

export const time = (ms) => (ms === null || ms === undefined ? '–'
  : new Date(ms).toISOString().replace('T', ' ').replace('Z', ''));

/** The values of a form's named fields, trimmed; empty ones are left out. */
export function fields(form) {
  const out = {};
  for (const [name, value] of new FormData(form)) {
    const text = String(value).trim();
    if (text !== '') out[name] = text;
  }
  return out;
}

/** A submit handler that runs `action` with the button disabled and ignores the API error
 *  (already shown as a toast). */
export function onSubmit(form, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    try { await action(fields(form)); } catch (e) { if (e.status === undefined) throw e; }
    finally { if (button) button.disabled = false; }
  });
}

/** A button that calls `action` and reports errors only through the API's toast. */
export function button(label, action, { kind = '', ...attrs } = {}) {
  return h('button', {
    type: 'button', class: kind, ...attrs,
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      const target = event.currentTarget;
      try { await action(); } catch (e) { if (e.status === undefined) throw e; }
      finally { target.disabled = false; }
    },
  }, label);
}
