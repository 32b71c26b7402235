// The unit board: roles, status, last location and its age, current assignment; and a map
// drawn as SVG from latitude and longitude alone (no tiles: it works with no internet).

import { h, replace, since, svg, words } from "./dom.js";
import { api } from "./session.js";

const STATUS_COLOURS = {
  available: "#1d5e20", en_route: "#0b4f9c", on_scene: "#8a4b00", transporting: "#5b2a86",
  out_of_service: "#5a5a5a", off_duty: "#5a5a5a",
};

// What a dispatcher may set for a unit from the board (a radio call: "Medic 3 off duty");
// en route and on scene come from its assignment's steps in the incident pane.
const SETTABLE = [["available", "Available"], ["off_duty", "Off duty"], ["out_of_service", "Out of service"]];

export class UnitBoard {
  constructor() {
    this.rows = document.getElementById("unit-rows");
    this.error = document.getElementById("unit-error");
    this.map = document.getElementById("unit-map");
    this.units = [];
    this.codes = new Map(); // incident id -> code, from the queue
    this.incident = null; // the open incident's point, marked on the map too
    this.pinning = null; // { id, code, done }: the next click on the map pins this incident
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.pinning) this.disarmPin();
    });
    this.ticker = setInterval(() => this.renderRows(), 5000);
  }

  async reload() {
    try {
      this.units = await api("/v1/units");
    } catch (error) {
      // A call-taker may not read the unit board (dispatcher and supervisor only).
      if (error.status === 403) {
        replace(this.rows, h("tr", {}, h("td", { colspan: "6", class: "muted" }, "The unit board is for dispatchers.")));
        return;
      }
      throw error;
    }
    this.renderRows();
    this.renderMap();
  }

  clear() {
    this.units = [];
    this.codes = new Map();
    this.incident = null;
    this.pinning = null;
    this.rows.replaceChildren();
    this.map.replaceChildren();
    this.error.textContent = "";
  }

  showIncident(incident) {
    const where = incident?.location;
    const point = where && where.lat !== null && where.lat !== undefined ? where : null;
    this.incident = point ? { code: incident.code, lat: point.lat, lon: point.lon } : null;
    this.renderMap();
  }

  // "Pin on the map" in the incident pane: the next click on the map places the incident
  // there (PUT /v1/incidents/{id}/pin); Escape gives up.
  armPin(incident, done) {
    this.pinning = { id: incident.id, code: incident.code, done };
    this.renderMap();
    this.map.querySelector("svg")?.focus();
  }

  disarmPin() {
    this.pinning = null;
    this.renderMap();
  }

  async pinAt(event, toLatLon) {
    const pinning = this.pinning;
    const svgNode = event.currentTarget;
    const matrix = svgNode.getScreenCTM();
    if (!pinning || !matrix) return;
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(matrix.inverse());
    const [lat, lon] = toLatLon(point.x, point.y);
    this.pinning = null;
    this.error.textContent = "";
    try {
      await api(`/v1/incidents/${encodeURIComponent(pinning.id)}/pin`, {
        method: "PUT",
        body: { lat: Number(lat.toFixed(6)), lon: Number(lon.toFixed(6)) },
      });
      await pinning.done();
    } catch (problem) {
      this.error.textContent = problem.message;
    }
    this.renderMap();
  }

  renderRows() {
    const now = Date.now();
    replace(this.rows, this.units.map((u) =>
      h("tr", { "data-unit": u.id },
        h("th", { scope: "row" }, u.call_sign, h("div", { class: "muted" }, u.agency)),
        h("td", {}, u.roles.map(words).join(", ")),
        h("td", { class: `status ${u.status}` }, words(u.status)),
        h("td", {}, u.lat === null ? "unknown" : `${u.lat.toFixed(4)}, ${u.lon.toFixed(4)} (${since(u.location_at, now)} ago, ${u.location_source ?? "?"})`),
        h("td", {}, u.current_incident_id ? `#${this.codes.get(u.current_incident_id) ?? u.current_incident_id.slice(0, 6)}` : "—"),
        h("td", { class: "steps" }, SETTABLE.filter(([status]) => status !== u.status).map(([status, label]) =>
          h("button", { type: "button", class: "secondary", "data-unit-status": status,
            "aria-label": `${label}: ${u.call_sign}`, onclick: () => this.setStatus(u, status) }, label))))));
  }

  async setStatus(unit, status) {
    this.error.textContent = "";
    try {
      const changed = await api(`/v1/units/${encodeURIComponent(unit.id)}/status`, { method: "POST", body: { status } });
      this.units = this.units.map((u) => (u.id === changed.id ? changed : u));
      this.renderRows();
      this.renderMap();
    } catch (problem) {
      // A committed unit cannot go off duty before its assignment is cancelled: the server says so.
      this.error.textContent = problem.message;
    }
  }

  renderMap() {
    const placed = this.units.filter((u) => u.lat !== null && u.lon !== null);
    if (!placed.length) {
      replace(this.map, h("p", { class: "muted" }, "No unit has reported a location."));
      return;
    }
    const points = this.incident ? [...placed, this.incident] : placed;
    const lats = points.map((u) => u.lat);
    const lons = points.map((u) => u.lon);
    const pad = 0.005;
    const [south, north] = [Math.min(...lats) - pad, Math.max(...lats) + pad];
    const [west, east] = [Math.min(...lons) - pad, Math.max(...lons) + pad];
    // Equirectangular, with longitude shrunk by cos(latitude) so a city is not stretched.
    const squeeze = Math.cos(((south + north) / 2) * Math.PI / 180);
    const width = 400;
    const height = Math.max(150, Math.min(400, width * (north - south) / ((east - west) * squeeze)));
    // A margin all round, wider on the right, so every marker and its call sign stays inside.
    const [left, right, top, bottom] = [10, 70, 10, 10];
    const x = (lon) => left + ((lon - west) / (east - west)) * (width - left - right);
    const y = (lat) => top + ((north - lat) / (north - south)) * (height - top - bottom);
    const toLatLon = (px, py) => [
      north - ((py - top) / (height - top - bottom)) * (north - south),
      west + ((px - left) / (width - left - right)) * (east - west),
    ];
    const marks = placed.map((u) =>
      svg("g", {},
        svg("title", {}, `${u.call_sign}: ${words(u.status)}`),
        svg("circle", { cx: x(u.lon).toFixed(1), cy: y(u.lat).toFixed(1), r: 5, fill: STATUS_COLOURS[u.status] ?? "#111", stroke: "#fff" }),
        svg("text", { x: (x(u.lon) + 7).toFixed(1), y: (y(u.lat) + 4).toFixed(1), fill: "#111" }, u.call_sign)));
    if (this.incident) {
      const [cx, cy] = [x(this.incident.lon), y(this.incident.lat)];
      marks.push(svg("g", {},
        svg("title", {}, `incident #${this.incident.code}`),
        svg("rect", { x: (cx - 6).toFixed(1), y: (cy - 6).toFixed(1), width: 12, height: 12, fill: "#b00020", stroke: "#fff",
          transform: `rotate(45 ${cx.toFixed(1)} ${cy.toFixed(1)})` }),
        svg("text", { x: (cx + 9).toFixed(1), y: (cy + 4).toFixed(1), fill: "#b00020", "font-weight": "700" }, `#${this.incident.code}`)));
    }
    const label = `Map of ${placed.length} units by their last location${this.incident ? ` and incident #${this.incident.code} (red diamond)` : ""}; the table lists the same units`;
    const drawn = svg("svg", {
      viewBox: `0 0 ${width} ${height.toFixed(0)}`,
      role: "img",
      "aria-label": this.pinning ? `Pinning incident #${this.pinning.code}: click where it is. ${label}` : label,
    }, svg("rect", { width, height: height.toFixed(0), fill: "#f4f6f8" }), ...marks);
    if (this.pinning) {
      drawn.setAttribute("class", "pinning");
      drawn.setAttribute("tabindex", "-1");
      drawn.addEventListener("click", (event) => this.pinAt(event, toLatLon));
    }
    replace(this.map, this.pinning
      ? h("p", { class: "note", role: "status" }, `Click the map where #${this.pinning.code} is (Escape cancels).`)
      : null, drawn);
  }
}
