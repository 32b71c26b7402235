// The unit board: roles, status, last location and its age, current assignment; and a map
// drawn as SVG (Web Mercator) with every open incident and the units' service areas; raster
// tiles under it only when the server names a tile URL (otherwise it asks no other host).

import { h, replace, since, svg, words } from "./dom.js";
import { api, config } from "./session.js";

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
    this.incidents = []; // every open incident with a point (from the queue's list)
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
    this.incidents = [];
    this.pinning = null;
    this.rows.replaceChildren();
    this.map.replaceChildren();
    this.error.textContent = "";
  }

  showIncident(incident) {
    // The point ETAs are measured to (a pin, a geocode), else the reported one.
    const where = incident?.locations?.[incident.location_used] ?? incident?.location;
    const point = where && where.lat !== null && where.lat !== undefined ? where : null;
    this.incident = point ? { id: incident.id, code: incident.code, lat: point.lat, lon: point.lon } : null;
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

  // Every open incident the queue holds, as the map shows them beside the units.
  showIncidents(list) {
    this.codes = new Map(list.map((i) => [i.id, i.code]));
    this.incidents = list.filter((i) => i.status !== "closed" && i.lat !== null && i.lat !== undefined);
    this.renderRows();
    this.renderMap();
  }

  renderMap() {
    const placed = this.units.filter((u) => u.lat !== null && u.lon !== null);
    const open = this.incidents.filter((i) => i.id !== this.incident?.id);
    const points = [...placed, ...open, ...(this.incident ? [this.incident] : [])];
    if (!points.length) {
      replace(this.map, h("p", { class: "muted" }, "No unit or incident has a location yet."));
      return;
    }
    const pad = 0.005; // degrees, so a lone point still has a neighbourhood
    const [nw, se] = [
      project(Math.max(...points.map((p) => p.lat)) + pad, Math.min(...points.map((p) => p.lon)) - pad),
      project(Math.min(...points.map((p) => p.lat)) - pad, Math.max(...points.map((p) => p.lon)) + pad),
    ];
    const width = 400;
    // A margin all round, wider on the right, so every marker and its label stays inside.
    const [left, right, top, bottom] = [10, 70, 10, 10];
    const [spanX, spanY] = [se[0] - nw[0], se[1] - nw[1]];
    const height = Math.round(Math.max(150, Math.min(400, top + bottom + (spanY * (width - left - right)) / spanX)));
    // One scale for both axes (Web Mercator keeps shapes), the points centred.
    const k = Math.min((width - left - right) / spanX, (height - top - bottom) / spanY);
    const [originX, originY] = [
      nw[0] - (left + (width - left - right - spanX * k) / 2) / k,
      nw[1] - (top + (height - top - bottom - spanY * k) / 2) / k,
    ];
    const at = (lat, lon) => {
      const [wx, wy] = project(lat, lon);
      return [(wx - originX) * k, (wy - originY) * k];
    };
    const toLatLon = (px, py) => unproject(originX + px / k, originY + py / k);

    const layers = [svg("rect", { width, height, fill: "#f4f6f8" })];
    if (config.tile_url) layers.push(...tiles(config.tile_url, originX, originY, k, width, height));
    layers.push(...areas(this.units, at));
    for (const i of open) layers.push(diamond(at(i.lat, i.lon), `#${i.code}`, i.priority === 1 ? "#b00020" : "#8a4b00", 4.5,
      `incident #${i.code}${i.priority ? `, priority ${i.priority}` : ""}${i.address ? `, ${i.address}` : ""}`));
    for (const u of placed) {
      const [cx, cy] = at(u.lat, u.lon);
      layers.push(svg("g", { "data-map-unit": u.id },
        svg("title", {}, `${u.call_sign}: ${words(u.status)}`),
        svg("circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 5, fill: STATUS_COLOURS[u.status] ?? "#111", stroke: "#fff" }),
        svg("text", { x: (cx + 7).toFixed(1), y: (cy + 4).toFixed(1), fill: "#111" }, u.call_sign)));
    }
    if (this.incident) {
      layers.push(diamond(at(this.incident.lat, this.incident.lon), `#${this.incident.code}`, "#b00020", 6,
        `incident #${this.incident.code} (open in the pane)`, true));
    }
    if (config.tile_url) {
      layers.push(svg("text", { x: 4, y: height - 4, fill: "#111", class: "attribution" }, `tiles: ${hostOf(config.tile_url)}`));
    }
    const label = `Map of ${placed.length} units by their last location and ${open.length + (this.incident ? 1 : 0)} open incidents (diamonds`
      + `${this.incident ? `; #${this.incident.code}, open in the pane, largest` : ""}); the tables list the same`;
    const drawn = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": this.pinning ? `Pinning incident #${this.pinning.code}: click where it is. ${label}` : label,
    }, ...layers);
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

// Web Mercator at zoom 0: the world is 256 × 256 (tile pixels at zoom z are these × 2^z).
const TILE = 256;
const MAX_LAT = 85.05112878;

function project(lat, lon) {
  const sin = Math.sin((Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180);
  return [(TILE * (lon + 180)) / 360, TILE * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI))];
}

function unproject(x, y) {
  const n = Math.PI - (2 * Math.PI * y) / TILE;
  return [(180 / Math.PI) * Math.atan(Math.sinh(n)), (x / TILE) * 360 - 180];
}

function hostOf(url) {
  try {
    return new URL(url.replaceAll(/\{[xyz]\}/g, "0")).host;
  } catch {
    return "?";
  }
}

// The raster tiles under the map, only when CORESPOND_CONSOLE_TILE_URL is set: a zoom at
// which a tile is drawn at least its own size, and only the tiles in view (at most 48).
function tiles(template, originX, originY, k, width, height) {
  const zoom = Math.max(0, Math.min(19, Math.ceil(Math.log2(k * 1.5))));
  const n = 2 ** zoom;
  const size = TILE / n; // one tile, in zoom-0 world units
  const [x0, x1] = [Math.floor(originX / size), Math.floor((originX + width / k) / size)];
  const [y0, y1] = [Math.max(0, Math.floor(originY / size)), Math.min(n - 1, Math.floor((originY + height / k) / size))];
  if ((x1 - x0 + 1) * (y1 - y0 + 1) > 48) return [];
  const drawn = [];
  for (let tx = x0; tx <= x1; tx += 1) {
    for (let ty = y0; ty <= y1; ty += 1) {
      const wrapped = ((tx % n) + n) % n;
      drawn.push(svg("image", {
        href: template.replaceAll("{z}", zoom).replaceAll("{x}", wrapped).replaceAll("{y}", ty),
        x: ((tx * size - originX) * k).toFixed(2),
        y: ((ty * size - originY) * k).toFixed(2),
        width: (size * k + 0.5).toFixed(2), // a hair over, so no seam shows between tiles
        height: (size * k + 0.5).toFixed(2),
        preserveAspectRatio: "none",
        class: "tile",
        "data-tile": `${zoom}/${wrapped}/${ty}`,
      }));
    }
  }
  return drawn;
}

// The service areas the units carry (GeoJSON Polygon or MultiPolygon), each drawn once.
function areas(units, at) {
  const seen = new Map();
  for (const u of units) {
    if (!u.service_area) continue;
    const key = JSON.stringify(u.service_area);
    if (!seen.has(key)) seen.set(key, { area: u.service_area, names: new Set() });
    seen.get(key).names.add(u.jurisdiction ? `${u.agency} (${u.jurisdiction})` : u.agency);
  }
  return [...seen.values()].map(({ area, names }) => {
    const polygons = area.type === "MultiPolygon" ? area.coordinates : area.type === "Polygon" ? [area.coordinates] : [];
    const d = polygons.flatMap((rings) => rings.map((ring) =>
      ring.map(([lon, lat], i) => {
        const [x, y] = at(lat, lon);
        return `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
      }).join(" ") + " Z")).join(" ");
    return svg("path", { d, class: "service-area", fill: "#0b4f9c", "fill-opacity": "0.08", stroke: "#0b4f9c",
      "stroke-width": "1.5", "stroke-dasharray": "4 3", "fill-rule": "evenodd" },
    svg("title", {}, `service area: ${[...names].join(", ")}`));
  });
}

function diamond([cx, cy], text, colour, half, title, bold = false) {
  return svg("g", { "data-map-incident": text },
    svg("title", {}, title),
    svg("rect", { x: (cx - half).toFixed(1), y: (cy - half).toFixed(1), width: half * 2, height: half * 2, fill: colour, stroke: "#fff",
      transform: `rotate(45 ${cx.toFixed(1)} ${cy.toFixed(1)})` }),
    svg("text", { x: (cx + half + 3).toFixed(1), y: (cy + 4).toFixed(1), fill: colour, "font-weight": bold ? "700" : "400" }, text));
}
