// Live updates: GET /v1/stream read with fetch and a stream reader (so the token travels in
// the Authorization header, never in a URL). Reconnects by itself with backoff, resuming
// from the last event id, and shows the connection's state.

import { renew, token } from "./session.js";

const QUIET_LIMIT_MS = 40_000; // the server sends a heartbeat every 15 s

export class LiveUpdates {
  constructor({ indicator, onIncidents, onUnits, onResync }) {
    this.indicator = indicator;
    this.onIncidents = onIncidents;
    this.onUnits = onUnits;
    this.onResync = onResync;
    this.lastEventId = null;
    this.controller = null;
    this.running = false;
    this.attempt = 0;
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.loop(Symbol("run"));
  }

  // Signing out closes the stream and forgets where it was: the next person starts afresh.
  stop() {
    this.running = false;
    this.run = null;
    this.controller?.abort();
    this.controller = null;
    this.lastEventId = null;
    this.attempt = 0;
    this.show("off", "Live updates: off");
  }

  show(state, text) {
    this.indicator.dataset.state = state;
    this.indicator.textContent = text;
  }

  // One loop per start: a loop still asleep in its backoff when the user signed out (and
  // someone signed in again) sees it is no longer the current run and ends.
  async loop(run) {
    this.run = run;
    while (this.running && this.run === run) {
      try {
        await this.connect();
      } catch (error) {
        // A network error, an abort by the watchdog, or a refused request: try again.
      }
      if (!this.running || this.run !== run) return;
      this.attempt += 1;
      // 1 s, 2 s, 4 s ... up to 15 s, with jitter so many consoles do not return at once.
      const delay = Math.min(15_000, 1000 * 2 ** Math.min(this.attempt - 1, 4)) * (0.75 + Math.random() / 2);
      this.show("reconnecting", `Live updates: reconnecting in ${Math.round(delay / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async connect() {
    if (!token()) throw new Error("signed out");
    this.controller = new AbortController();
    const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
    if (this.lastEventId !== null) headers["Last-Event-ID"] = this.lastEventId;
    const response = await fetch("/v1/stream", { headers, signal: this.controller.signal, cache: "no-store" });
    if (response.status === 401) {
      await renew();
      throw new Error("unauthorised");
    }
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let watchdog = this.arm();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(watchdog);
        watchdog = this.arm();
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          this.dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } finally {
      clearTimeout(watchdog);
    }
  }

  // A stream that goes quiet past the heartbeat is dead even if the socket has not said so.
  arm() {
    return setTimeout(() => this.controller?.abort(), QUIET_LIMIT_MS);
  }

  dispatch(block) {
    let kind = "message";
    let data = "";
    let id = null;
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) kind = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trim();
      else if (line.startsWith("id:")) id = line.slice(3).trim();
    }
    if (kind === "ready") {
      const first = this.lastEventId === null;
      this.attempt = 0;
      this.show("live", "Live updates: connected");
      if (id !== null && first) this.lastEventId = id;
      // After a gap the events since lastEventId follow; reloading the lists as well
      // covers what no event names (a unit moved while we were away).
      if (!first) this.onResync();
      return;
    }
    if (id !== null) this.lastEventId = id;
    const body = data ? JSON.parse(data) : {};
    if (!this.running) return;
    if (kind === "incident") this.onIncidents(body.incident_ids || []);
    else if (kind === "units") this.onUnits(body.unit_ids || []);
    else if (kind === "expired") renew();
  }
}
