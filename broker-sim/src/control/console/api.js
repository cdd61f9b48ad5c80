// Talking to the control API. Every call is same-origin; POSTs say
// `Content-Type: application/json`, which is what the API's CSRF guard asks of a browser.
// A control token, if the cluster has one, arrives once as `?token=` on the page's URL: it
// is moved to sessionStorage (and out of the address bar, so it is not bookmarked or
// shared by accident) and sent as a bearer token on every call.
import { toast } from './ui.js';

const TOKEN_KEY = 'broker-sim-token';

(function takeTokenFromUrl() {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (token !== null) {
    sessionStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
})();

/** An error answer of the API: its message, HTTP status and Kafka code (if any). */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls `path` and returns its JSON (null for 204). An error answer is shown as a toast
 * and thrown, unless `quiet` lists its status (the caller handles it, e.g. a 404 that
 * means "not there yet").
 */
export async function call(method, path, body, { quiet = [] } = {}) {
  const headers = { Accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    // The binary stopped: say so once in the status line rather than a toast a second.
    setStatus('cannot reach broker-sim');
    throw new ApiError(0, String(e));
  }
  setStatus('');
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { error: text }; }
  if (!response.ok) {
    // The control API answers {"error", "code"}; the schema registry {"message", "error_code"}.
    const message = json?.error ?? json?.message ?? `${method} ${path}: HTTP ${response.status}`;
    const code = json?.code ?? json?.error_code;
    const error = new ApiError(response.status, String(message), code);
    if (!quiet.includes(response.status)) {
      toast(code ? `${message} (${code})` : message, 'error');
    }
    if (response.status === 401) setStatus('needs a control token: open /?token=…');
    throw error;
  }
  return json;
}

export const get = (path, options) => call('GET', path, undefined, options);
export const post = (path, body = {}, options) => call('POST', path, body, options);
export const del = (path, options) => call('DELETE', path, undefined, options);

/** A path segment: topic and group names may hold any character. */
export const seg = encodeURIComponent;

function setStatus(text) {
  const status = document.getElementById('status');
  if (status && status.textContent !== text) status.textContent = text;
}
