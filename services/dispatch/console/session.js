// The signed-in session: the access token lives in memory only (never in storage or a URL),
// is refreshed before it expires, and every API call goes through here.

// A console left open must still sign out when nobody uses it (the server's idle limit,
// 30 minutes by default): the timer renews the token only after recent keyboard or
// pointer use; otherwise the console signs out (the live stream's reconnects do not count).
const IDLE_MS = 30 * 60 * 1000;
let lastUsed = Date.now();
for (const kind of ["keydown", "pointerdown"]) {
  document.addEventListener(kind, () => { lastUsed = Date.now(); }, { capture: true, passive: true });
}

let access = null;
let refresh = null;
let refreshTimer = null;
const listeners = new Set();
export const config = { triage_url: null, notify_url: null };

export async function loadConfig() {
  const response = await fetch("/console/config.json", { cache: "no-cache" });
  Object.assign(config, await response.json());
}

export function onSignedOut(listener) {
  listeners.add(listener);
}

export function token() {
  return access;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export async function login(username, password) {
  return post("/v1/auth/login", { username, password }); // {mfa_token, enrol_uri}
}

export async function verifyCode(mfaToken, code) {
  keep(await post("/v1/auth/mfa", { mfa_token: mfaToken, code }));
}

function keep(tokens) {
  access = tokens.access_token;
  refresh = tokens.refresh_token;
  clearTimeout(refreshTimer);
  // A minute before it expires (or at two thirds of a short lifetime).
  const lead = Math.min(60, tokens.expires_in / 3);
  refreshTimer = setTimeout(renew, Math.max(5, tokens.expires_in - lead) * 1000);
}

let renewing = null;
export async function renew() {
  if (!refresh) return false;
  if (Date.now() - lastUsed >= IDLE_MS) {
    end(); // nobody has used the console for the idle limit: sign out, do not renew
    return false;
  }
  renewing ??= (async () => {
    try {
      keep(await post("/v1/auth/refresh", { refresh_token: refresh }));
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) end();
      return false;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

export async function signOut() {
  const held = access;
  end();
  if (held) {
    await fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${held}` } }).catch(() => {});
  }
}

function end() {
  access = null;
  refresh = null;
  clearTimeout(refreshTimer);
  for (const listener of listeners) listener();
}

// base: "" for dispatch, config.triage_url / config.notify_url for the others.
export async function api(path, { method = "GET", body, base = "", retried = false } = {}) {
  const headers = { Authorization: `Bearer ${access}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !retried && (await renew())) {
    return api(path, { method, body, base, retried: true });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
