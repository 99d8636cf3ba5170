// The service's JSON API (api/..., the original's paths and shapes) and the web helpers (web/...), addressed
// relative to the page so that a path prefix in front of the service needs no change here.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok || (body && body.Code === 'ERROR')) {
    const message = (body && (body.Message || body.detail)) || `${response.status} ${response.statusText}`;
    throw new ApiError(typeof message === 'string' ? message : JSON.stringify(message), response.status);
  }
  return body;
}

/** A data route (raw object or array). */
export const api = (path) => getJSON('api/' + path);

/** An envelope route: its Details. */
export async function details(path) {
  const body = await api(path);
  return body && Object.prototype.hasOwnProperty.call(body, 'Details') ? body.Details : body;
}

export const keyStr = (k) => (k && k.Hostname ? `${k.Hostname}:${k.Port}` : '');
export const keyPath = (k) => `${encodeURIComponent(k.Hostname)}/${k.Port}`;
export const seg = (text) => encodeURIComponent(text);

export function parseKey(text) {
  const at = text.lastIndexOf(':');
  return { Hostname: text.slice(0, at), Port: Number(text.slice(at + 1)) };
}

export function plan(command, args) {
  const query = new URLSearchParams(Object.entries(args).filter(([, v]) => v !== undefined && v !== ''));
  return getJSON(`web/plan/${command}?${query}`).then((b) => b.Details);
}
