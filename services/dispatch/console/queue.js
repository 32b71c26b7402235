// The live incident queue: ordered by urgency — priority (not yet triaged first: it needs
// eyes, then P1, P2, P3), then incidents with a role nobody fills, then age — with the
// nature of the call, its address, the unfilled roles, and timers since received and since
// the last change. Search (code, address, caller phone) asks the server, which can read
// the encrypted addresses and phones.

import { h, priorityBadge, replace, since, words } from "./dom.js";
import { api } from "./session.js";

export class IncidentQueue {
  constructor({ onSelect, onLoaded = () => {} }) {
    this.onLoaded = onLoaded; // the list as read: the unit map shows the open ones
    this.rows = document.getElementById("queue-rows");
    this.statusFilter = document.getElementById("filter-status");
    this.jurisdictionFilter = document.getElementById("filter-jurisdiction");
    this.onSelect = onSelect;
    this.incidents = new Map();
    this.selected = null;
    this.search = document.getElementById("queue-search");
    this.statusFilter.addEventListener("change", () => this.render());
    this.jurisdictionFilter.addEventListener("change", () => this.render());
    let typing = null;
    this.search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => this.reload().catch((error) => console.error(error)), 300);
    });
    // The timers tick without asking the server anything.
    this.ticker = setInterval(() => this.render(), 1000);
  }

  async reload() {
    const wanted = this.search.value.trim();
    const list = await api(`/v1/incidents?limit=500${wanted ? `&q=${encodeURIComponent(wanted)}` : ""}`);
    if (wanted !== this.search.value.trim()) return; // typed on meanwhile: a newer answer follows
    this.incidents = new Map(list.map((incident) => [incident.id, incident]));
    this.render();
    this.onLoaded(list);
  }

  // A change to some incidents: the list is re-read (one query; summaries are small).
  async changed() {
    await this.reload();
  }

  clear() {
    this.search.value = "";
    this.statusFilter.value = "open";
    this.jurisdictionFilter.value = "";
    this.incidents = new Map();
    this.selected = null;
    this.rows.replaceChildren();
  }

  select(id) {
    this.selected = id;
    this.render();
    this.onSelect(id);
  }

  visible() {
    const status = this.statusFilter.value;
    const jurisdiction = this.jurisdictionFilter.value;
    const rank = (p) => (p === null || p === undefined ? 0 : p); // untriaged on top: it needs eyes
    return [...this.incidents.values()]
      .filter((i) => (status === "open" ? i.status !== "closed" : !status || i.status === status))
      .filter((i) => !jurisdiction || i.jurisdiction === jurisdiction)
      .sort((a, b) => rank(a.priority) - rank(b.priority)
        || (b.unfilled_roles?.length ?? 0) - (a.unfilled_roles?.length ?? 0)
        || Date.parse(a.received_at) - Date.parse(b.received_at));
  }

  render() {
    const now = Date.now();
    const focused = document.activeElement?.closest?.("tr[data-id]")?.dataset.id;
    replace(
      this.rows,
      this.visible().map((incident) => {
        const row = h(
          "tr",
          {
            "data-id": incident.id,
            class: incident.id === this.selected ? "selected" : null,
            tabindex: "0",
            "aria-current": incident.id === this.selected ? "true" : null,
            onclick: () => this.select(incident.id),
            onkeydown: (event) => {
              if (event.key === "Enter" || event.key === " ") {
                event.preventDefault();
                this.select(incident.id);
              }
            },
          },
          h("td", {}, priorityBadge(incident.priority)),
          h("td", {}, h("strong", {}, `#${incident.code}`)),
          h("td", {}, words(incident.category ?? "—"), h("div", { class: "muted" }, words(incident.response_model ?? ""))),
          h("td", {}, incident.address ?? "—"),
          h("td", { class: incident.unfilled_roles?.length ? "unfilled" : null },
            incident.unfilled_roles?.length ? incident.unfilled_roles.map(words).join(", ") : "—"),
          h("td", { class: `status ${incident.status}` }, words(incident.status)),
          h("td", {}, since(incident.received_at, now)),
          h("td", {}, since(incident.updated_at, now)),
        );
        return row;
      }),
    );
    if (focused) this.rows.querySelector(`tr[data-id="${CSS.escape(focused)}"]`)?.focus();
    if (!this.rows.children.length) {
      this.rows.append(h("tr", {}, h("td", { colspan: "8", class: "muted" }, "No incidents match.")));
    }
  }
}
