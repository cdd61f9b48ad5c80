// The console's shell: hash routing between pages and the poll that keeps the shown page
// current. Each page module exports `mount(root, route)`, which builds the page once
// (forms keep what the user typed) and returns `{refresh, stop?}`; `refresh` fetches the
// JSON endpoints and updates only what changed. Polling pauses while the tab is hidden.
import overview from './overview.js';
import { topicList, topicDetail } from './topics.js';
import messages from './messages.js';
import { groupList, groupDetail } from './groups.js';
import failures from './failures.js';
import requests from './requests.js';
import schemas from './schemas.js';

const POLL_MS = 1000;

/** `#/topics/orders?partition=1` → {page: 'topics', name: 'orders', query}. */
function parseHash() {
  const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? '', name: parts.slice(1).join('/') || null,
           query: new URLSearchParams(search) };
}

function pageFor(route) {
  switch (route.page) {
    case '': return overview;
    case 'topics': return route.name ? topicDetail : topicList;
    case 'messages': return messages;
    case 'groups': return route.name ? groupDetail : groupList;
    case 'failures': return failures;
    case 'requests': return requests;
    case 'schemas': return schemas;
    default: return null;
  }
}

let current = null;
let inFlight = false;

async function poll() {
  if (!current || inFlight || document.hidden) return;
  inFlight = true;
  const page = current;
  try { await page.refresh(); } catch (e) {
    // API errors were shown as toasts; anything else is a bug worth seeing in devtools.
    if (e.status === undefined) console.error(e);
  } finally { inFlight = false; }
}

function show() {
  current?.stop?.();
  const route = parseHash();
  const page = pageFor(route);
  const root = document.getElementById('view');
  root.replaceChildren();
  for (const link of document.querySelectorAll('.top nav a')) {
    const target = link.getAttribute('href').slice(2).split('/')[0];
    if (target === route.page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!page) {
    root.append(Object.assign(document.createElement('p'), { textContent: `No page "${route.page}".` }));
    current = null;
    return;
  }
  current = page.mount(root, route);
  document.title = `${page.title(route)} · broker-sim`;
  inFlight = false;
  poll();
}

window.addEventListener('hashchange', () => {
  show();
  // Moving focus to the new page tells screen readers the page changed.
  document.getElementById('view').focus({ preventScroll: true });
});
document.addEventListener('visibilitychange', poll);
setInterval(poll, POLL_MS);
show();
