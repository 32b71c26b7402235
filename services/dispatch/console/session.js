// The signed-in session: the access token lives in memory only (never in storage or a URL),
// is refreshed before it expires, and every API call goes through here.

// A console left open locks itself when nobody uses it: after the idle lock (the server's
// CORESPOND_CONSOLE_IDLE_LOCK_S, read from /console/config.json) without keyboard or pointer
// use it signs out, which clears the screen and memory and closes the live stream. The
// token is renewed only after recent use, so the server's own idle limit (30 minutes by
// default) ends a session whose page is gone (the live stream's reconnects do not count).
const DEFAULT_IDLE_LOCK_S = 600;
let lastUsed = Date.now();
for (const kind of ["keydown", "pointerdown"]) {
  document.addEventListener(kind, () => { lastUsed = Date.now(); }, { capture: true, passive: true });
}
setInterval(() => {
  if (access && Date.now() - lastUsed >= idleLockMs()) end("locked");
}, 1000);

function idleLockMs() {
  return (config.idle_lock_s || DEFAULT_IDLE_LOCK_S) * 1000;
}

let access = null;
let refresh = null;
let refreshTimer = null;
// Bumped at every sign-out: an answer to a request made before it is thrown away, so
// nothing fetched for the last user is drawn after the screen was cleared.
let generation = 0;
const listeners = new Set();
export const config = { triage_url: null, notify_url: null, idle_lock_s: DEFAULT_IDLE_LOCK_S };

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

// The first sign-in with a password an admin set: the person's own replaces it (no session
// is opened before), then signing in goes on with the new one.
export async function changePassword(username, password, newPassword) {
  await post("/v1/auth/password", { username, password, new_password: newPassword });
}

export async function verifyCode(mfaToken, code) {
  keep(await post("/v1/auth/mfa", { mfa_token: mfaToken, code }));
  lastUsed = Date.now();
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
  if (Date.now() - lastUsed >= idleLockMs()) {
    end("locked"); // nobody has used the console for the idle lock: sign out, do not renew
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

// reason: "signed-out" (the button), "locked" (idle), "ended" (the server refused to renew).
export async function signOut() {
  const held = access;
  end("signed-out");
  if (held) {
    await fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${held}` } }).catch(() => {});
  }
}

function end(reason = "ended") {
  const held = access;
  access = null;
  refresh = null;
  generation += 1;
  clearTimeout(refreshTimer);
  // A lock ends the session on the server too, as the button does.
  if (held && reason === "locked") {
    fetch("/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${held}` } }).catch(() => {});
  }
  for (const listener of listeners) listener(reason);
}

export class SignedOutError extends Error {}

// base: "" for dispatch, config.triage_url / config.notify_url for the others.
export async function api(path, { method = "GET", body, base = "", retried = false } = {}) {
  if (!access) throw new SignedOutError("signed out");
  const asked = generation;
  const headers = { Authorization: `Bearer ${access}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (asked !== generation) throw new SignedOutError("signed out meanwhile");
  if (response.status === 401 && !retried && (await renew())) {
    return api(path, { method, body, base, retried: true });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (asked !== generation) throw new SignedOutError("signed out meanwhile");
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
