// The alerts panel: what needs a person now (a role nobody will fill, an offer a P1 waits
// on, a handoff nobody can take, a responder's well-being), most urgent first as the server
// orders them. An unacknowledged P1 role alert is drawn in red at the top and named in the
// panel's heading; acknowledging records who has it in hand. Alerts leave the list by
// themselves when their condition ends (the server clears them).

import { clock, h, priorityBadge, replace, since, words } from "./dom.js";
import { api } from "./session.js";

const KIND_NAMES = {
  role_unfilled: "Role unfilled",
  offer_unanswered: "P1 offer unanswered",
  handoff_unplaced: "Handoff not placed",
  wellbeing: "Responder well-being",
  work_stuck: "Call stuck",
};

export class AlertsPanel {
  constructor({ onOpen }) {
    this.list = document.getElementById("alert-list");
    this.count = document.getElementById("alert-count");
    this.section = document.getElementById("alerts");
    this.onOpen = onOpen;
    this.alerts = [];
    this.forbidden = false;
    this.ticker = setInterval(() => this.render(), 5000);
  }

  async reload() {
    try {
      this.alerts = await api("/v1/alerts");
      this.forbidden = false;
    } catch (error) {
      if (error.status !== 403) throw error;
      this.alerts = [];
      this.forbidden = true; // alerts are for dispatchers and supervisors
    }
    this.render();
  }

  clear() {
    this.alerts = [];
    this.forbidden = false;
    this.list.replaceChildren();
    this.count.textContent = "";
    this.section.dataset.urgent = "false";
  }

  async acknowledge(id) {
    await api(`/v1/alerts/${encodeURIComponent(id)}/acknowledge`, { method: "POST" });
    await this.reload();
  }

  render() {
    const now = Date.now();
    const urgent = this.alerts.filter(isUrgent);
    const waiting = this.alerts.filter((a) => !a.acknowledged_at).length;
    this.section.dataset.urgent = urgent.length ? "true" : "false";
    this.count.textContent = urgent.length
      ? `${urgent.length} P1 with a role unfilled`
      : this.alerts.length ? `${waiting} new, ${this.alerts.length} open` : "";
    if (this.forbidden) {
      replace(this.list, h("li", { class: "muted" }, "Alerts are for dispatchers and supervisors."));
      return;
    }
    if (!this.alerts.length) {
      replace(this.list, h("li", { class: "muted" }, "No open alerts."));
      return;
    }
    const focused = document.activeElement?.dataset?.alertAction;
    replace(this.list, this.alerts.map((a) => this.item(a, now)));
    if (focused) this.list.querySelector(`[data-alert-action="${CSS.escape(focused)}"]`)?.focus();
  }

  item(a, now) {
    const taken = Boolean(a.acknowledged_at);
    return h(
      "li",
      { class: `alert${isUrgent(a) ? " urgent" : ""}${taken ? " taken" : ""}`, "data-alert": a.id, "data-kind": a.kind },
      h("div", { class: "alert-head" },
        priorityBadge(a.priority),
        " ",
        h("strong", {}, KIND_NAMES[a.kind] ?? words(a.kind)),
        a.incident_code ? " " : null,
        a.incident_code
          ? h("button", { type: "button", class: "link", "data-alert-action": `open-${a.id}`,
              onclick: () => this.onOpen(a.incident_id) }, `#${a.incident_code}`)
          : null,
        h("span", { class: "muted" }, ` ${since(a.raised_at, now)} ago`)),
      h("div", {}, a.summary),
      taken
        ? h("div", { class: "muted" }, `Acknowledged by ${a.acknowledged_by} at ${clock(a.acknowledged_at)}`)
        : h("button", { type: "button", class: "secondary", "data-alert-action": `ack-${a.id}`,
            onclick: (event) => {
              event.target.disabled = true;
              this.acknowledge(a.id).catch((error) => {
                event.target.disabled = false;
                console.error(error);
              });
            } }, "Acknowledge"),
    );
  }
}

// A life threat with nobody coming for one of its roles: the one thing not to miss.
function isUrgent(alert) {
  return !alert.acknowledged_at && (alert.priority ?? 1) === 1
    && (alert.kind === "role_unfilled" || alert.kind === "offer_unanswered");
}
