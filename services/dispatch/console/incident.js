// One incident, everything a dispatcher acts on: the triage decision and its reasons, the
// recommended units with ETAs and reasons, confirm or override (an override needs a reason),
// each assignment's state, the SMS and their delivery, warm handoffs and telehealth, the
// timeline, and closing with a disposition. All from the public API.

import { clock, h, minutes, priorityBadge, replace, words } from "./dom.js";
import { decisionView } from "./intake.js";
import { api, config } from "./session.js";

// What a warm handoff may ask a treatment provider for (schemas.vocabulary.HandoffService).
const HANDOFF_SERVICES = [
  ["mat_induction", "MAT / buprenorphine induction"], ["detox", "detox"],
  ["crisis_stabilisation", "crisis stabilisation"], ["shelter_bed", "shelter bed"],
  ["harm_reduction", "harm reduction"], ["family_support", "family support"],
];

const DISPOSITIONS = [
  "deflected_to_treatment", "warm_handoff_completed", "transported", "treated_on_scene",
  "refused_services", "arrest", "referred", "no_contact", "cancelled",
];
// The APCO disposition codes a CAD may be sent instead of the mapped one: disposition_codes
// in services/dispatch/domain/apco_codes.yaml (a unit test keeps the two the same).
const APCO_DISPOSITIONS = [
  "REFERRED", "TRANSPORTED", "ASSISTANCE_RENDERED", "REFUSED", "ARREST", "UNABLE_TO_LOCATE",
  "CANCELLED",
];

export class IncidentPane {
  constructor({ onShown = () => {}, onPin = null } = {}) {
    this.onShown = onShown;
    this.onPin = onPin; // (incident, done): arms the map for a pin
    this.body = document.getElementById("incident-body");
    this.id = null;
    this.loading = null;
  }

  clear() {
    this.id = null;
    replace(this.body, h("p", { class: "muted" }, "Choose an incident in the list."));
  }

  async show(id) {
    this.id = id;
    await this.refresh();
  }

  async refresh() {
    if (!this.id) return;
    const id = this.id;
    const [incident, messages, handoffs] = await Promise.all([
      api(`/v1/incidents/${encodeURIComponent(id)}`),
      config.notify_url
        ? api(`/v1/messages?incident_id=${encodeURIComponent(id)}`, { base: config.notify_url }).catch(() => null)
        : Promise.resolve(null),
      api(`/v1/incidents/${encodeURIComponent(id)}/handoffs`).catch(() => []),
    ]);
    if (id !== this.id) return; // another incident was chosen meanwhile
    // Keep what the dispatcher is typing when an update arrives.
    const kept = this.typed();
    replace(this.body, this.render(incident, messages, handoffs));
    this.restore(kept);
    this.onShown(incident);
  }

  typed() {
    const kept = {};
    for (const field of this.body.querySelectorAll("textarea, select, input")) {
      if (field.id) kept[field.id] = field.value;
    }
    const focused = document.activeElement;
    return { values: kept, focus: this.body.contains(focused) ? focused.id : null };
  }

  restore({ values, focus }) {
    for (const [id, value] of Object.entries(values)) {
      const field = document.getElementById(id);
      if (field && this.body.contains(field)) field.value = value;
    }
    if (focus) document.getElementById(focus)?.focus();
  }

  render(incident, messages, handoffs) {
    const joined = incident.timeline.filter((t) => t.kind === "telehealth.joined");
    return h(
      "div",
      { "data-incident": incident.id },
      h(
        "p",
        { class: "incident-head" },
        h("strong", {}, `#${incident.code}`),
        " ",
        priorityBadge(incident.triage?.priority),
        " ",
        h("span", { class: `status ${incident.status}`, id: "incident-status" }, words(incident.status)),
        ` · ${words(incident.source)} · ${incident.jurisdiction} · received ${clock(incident.received_at)}`,
      ),
      h("p", {}, h("strong", {}, "Where: "), place(incident), " ",
        incident.status === "closed" || !this.onPin ? null : h("button", {
          type: "button", class: "secondary", id: "pin-on-map",
          title: "Then click the map where the incident is (Escape cancels)",
          onclick: () => this.onPin(incident, () => this.refresh()),
        }, "Pin on the map")),
      incident.narrative ? h("p", {}, h("strong", {}, "Narrative: "), incident.narrative) : null,
      incident.caller?.phone ? h("p", {}, h("strong", {}, "Caller: "), incident.caller.phone) : null,
      incident.language ? h("p", {}, h("strong", {}, "Caller's language: "), incident.language) : null,
      h(
        "div",
        { class: "grid2" },
        h("section", { "aria-label": "Triage" }, h("h3", {}, "Triage"),
          incident.triage ? decisionView(incident.triage) : h("p", { class: "muted" }, "Waiting for triage…")),
        h("section", { "aria-label": "Recommendation" }, h("h3", {}, "Recommended units"),
          this.recommendation(incident)),
      ),
      h("section", { "aria-label": "Assignments" }, h("h3", {}, "Assignments"),
        assignments(incident, (id, status) => this.step(id, status)),
        incident.status === "closed" ? null : this.replanButton(incident)),
      h("p", { id: "incident-action-error", class: "error", role: "alert" }),
      h("section", { "aria-label": "Messages" }, h("h3", {}, "SMS"), sms(incident, messages)),
      h(
        "section",
        { "aria-label": "Handoffs and telehealth" },
        h("h3", {}, "Warm handoffs and telehealth"),
        joined.length
          ? h("ul", {}, joined.map((t) => h("li", { class: "status accepted" }, `clinician joined: ${t.summary}`)))
          : null,
        handoffs.length
          ? h("ul", {}, handoffs.map((x) =>
              h("li", {}, `${words(x.service_type)}: `, h("span", { class: `status ${x.status}` }, words(x.status)),
                x.organization ? ` — ${x.organization}` : "")))
          : joined.length ? null : h("p", { class: "muted" }, "None requested."),
        incident.status === "closed" ? null : this.handoffForm(incident),
      ),
      h("section", { "aria-label": "Timeline" }, h("h3", {}, "Timeline"),
        h("ol", { class: "timeline" }, incident.timeline.map((t) =>
          h("li", {}, h("time", { datetime: t.at }, clock(t.at)), ` ${t.summary} `, h("span", { class: "muted" }, `(${t.actor})`))))),
      incident.status === "closed"
        ? h("p", {}, h("strong", {}, "Closed: "), words(incident.disposition), ` at ${clock(incident.closed_at)}`)
        : this.closeForm(incident),
    );
  }

  // A step reported for a unit (radio traffic): en route, on scene, clear, cancel.
  async step(assignmentId, status) {
    try {
      await api(`/v1/assignments/${encodeURIComponent(assignmentId)}/status`, { method: "POST", body: { status } });
      await this.refresh();
    } catch (problem) {
      const error = document.getElementById("incident-action-error");
      if (error) error.textContent = problem.message;
    }
  }

  // A warm handoff: the service asked for; the provider is found and asked by dispatch,
  // and the answer (placed, or an alert when nobody can take it) comes back live.
  handoffForm(incident) {
    const error = h("p", { class: "error", role: "alert" });
    return h(
      "form",
      {
        class: "handoff-form",
        onsubmit: async (event) => {
          event.preventDefault();
          const service = document.getElementById("handoff-service").value;
          error.textContent = "";
          try {
            await api(`/v1/incidents/${encodeURIComponent(incident.id)}/handoffs`, {
              method: "POST",
              body: { service },
            });
            await this.refresh();
          } catch (problem) {
            error.textContent = problem.message;
          }
        },
      },
      h("label", { for: "handoff-service" }, "Warm handoff to"),
      h("select", { id: "handoff-service" }, HANDOFF_SERVICES.map(([value, label]) => h("option", { value }, label))),
      h("button", { type: "submit", class: "secondary", id: "request-handoff" }, "Request warm handoff"),
      error,
    );
  }

  replanButton(incident) {
    return h("button", {
      type: "button",
      class: "secondary",
      id: "replan",
      title: "Work out every unfilled role again (a unit may have come free)",
      onclick: async () => {
        try {
          await api(`/v1/incidents/${encodeURIComponent(incident.id)}/replan`, { method: "POST" });
          await this.refresh();
        } catch (problem) {
          const error = document.getElementById("incident-action-error");
          if (error) error.textContent = problem.message;
        }
      },
    }, "Re-plan unfilled roles");
  }

  recommendation(incident) {
    const entries = incident.recommendation || [];
    if (!entries.length) return h("p", { class: "muted" }, "No recommendation yet.");
    const canDispatch = ["awaiting_dispatch", "unassigned", "triaged"].includes(incident.status);
    const list = h("ul", { class: "reasons" }, entries.map((e) =>
      h("li", {}, h("strong", {}, `${words(e.role)}: ${e.call_sign ?? "nobody available"}`),
        e.eta_seconds !== null && e.eta_seconds !== undefined ? ` — ETA ${minutes(e.eta_seconds)}` : "",
        e.reasons?.length ? h("ul", {}, e.reasons.map((r) => h("li", {}, r))) : null,
        e.notes?.length ? h("ul", {}, e.notes.map((r) => h("li", {}, r))) : null)));
    if (!canDispatch) return list;
    const choices = entries.map((e, i) => {
      const options = [
        e.unit_id ? { unit_id: e.unit_id, label: `${e.call_sign} (recommended, ${minutes(e.eta_seconds)})` } : null,
        ...(e.alternatives || []).map((a) => ({ unit_id: a.unit_id, label: `${a.call_sign} (${minutes(a.eta_seconds)})` })),
      ].filter(Boolean);
      return { entry: e, id: `choose-${i}`, options };
    });
    const reason = h("textarea", { id: "override-reason", rows: "2", maxlength: "500" });
    const error = h("p", { class: "error", role: "alert" });
    const form = h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          const units = choices
            .map((c) => ({ role: c.entry.role, unit_id: document.getElementById(c.id)?.value }))
            .filter((u) => u.unit_id);
          const override = choices.some((c) => document.getElementById(c.id)?.value !== c.entry.unit_id);
          const why = reason.value.trim();
          if (override && !why) {
            error.textContent = "Choosing other units than recommended needs a reason.";
            reason.focus();
            return;
          }
          try {
            await api(`/v1/incidents/${encodeURIComponent(incident.id)}/dispatch`, {
              method: "POST",
              body: override ? { units, override_reason: why } : { units },
            });
            await this.refresh();
          } catch (problem) {
            error.textContent = problem.message;
          }
        },
      },
      choices.map((c) => [
        h("label", { for: c.id }, `Unit for ${words(c.entry.role)}`),
        h("select", { id: c.id }, c.options.map((o) => h("option", { value: o.unit_id }, o.label))),
      ]),
      h("label", { for: "override-reason" }, "Override reason (needed when not the recommended unit)"),
      reason,
      h("button", { type: "submit", id: "confirm-dispatch" }, "Dispatch these units"),
      error,
    );
    return h("div", {}, list, form);
  }

  closeForm(incident) {
    const error = h("p", { class: "error", role: "alert" });
    return h(
      "form",
      {
        class: "close-form",
        onsubmit: async (event) => {
          event.preventDefault();
          const disposition = document.getElementById("disposition").value;
          const note = document.getElementById("closing-note").value.trim();
          const apco = document.getElementById("apco-disposition").value;
          const body = { disposition };
          if (note) body.note = note;
          if (apco) body.apco_disposition = apco;
          try {
            await api(`/v1/incidents/${encodeURIComponent(incident.id)}/close`, {
              method: "POST",
              body,
            });
            await this.refresh();
          } catch (problem) {
            error.textContent = problem.message;
          }
        },
      },
      h("h3", {}, "Close"),
      h("label", { for: "disposition" }, "Disposition"),
      h("select", { id: "disposition" }, DISPOSITIONS.map((d) => h("option", { value: d }, words(d)))),
      h("label", { for: "apco-disposition" }, "APCO disposition code for the CAD (optional)"),
      h(
        "select",
        { id: "apco-disposition" },
        h("option", { value: "" }, "as the disposition maps"),
        APCO_DISPOSITIONS.map((code) => h("option", { value: code }, code)),
      ),
      h("label", { for: "closing-note" }, "Note (optional)"),
      h("textarea", { id: "closing-note", rows: "2", maxlength: "2000" }),
      h("button", { type: "submit", class: "secondary" }, "Close incident"),
      error,
    );
  }
}

function place(incident) {
  const where = incident.location || {};
  const parts = [];
  if (where.address) parts.push(where.address);
  if (where.lat !== null && where.lat !== undefined) parts.push(`${where.lat.toFixed(5)}, ${where.lon.toFixed(5)}`);
  if (incident.location_used) {
    // How the point was found and how sure it is: a weak geocode is worth a pin.
    const how = incident.location_source ? `: ${words(incident.location_source)}` : "";
    const sure = typeof incident.location_confidence === "number" ? `, confidence ${incident.location_confidence.toFixed(2)}` : "";
    parts.push(`(ETAs to the ${incident.location_used} location${how}${sure})`);
  } else if (where.address) {
    parts.push("(address not placed: pin it for ETAs)");
  }
  return parts.join(" ") || "unknown";
}

// The steps a dispatcher may report from each state (the lifecycle in domain/lifecycle.py;
// accepting or declining an offer is the unit's own answer).
const STEPS = {
  offered: [["cancelled", "Cancel"]],
  accepted: [["en_route", "En route"], ["on_scene", "On scene"], ["cancelled", "Cancel"]],
  en_route: [["on_scene", "On scene"], ["cleared", "Clear"], ["cancelled", "Cancel"]],
  on_scene: [["cleared", "Clear"]],
};

function assignments(incident, step) {
  if (!incident.assignments.length) return h("p", { class: "muted" }, "No unit offered yet.");
  return h(
    "table",
    { class: "assignments" },
    h("thead", {}, h("tr", {}, ["Unit", "Role", "State", "ETA", "Since", "By", "Report"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, incident.assignments.map((a) =>
      h("tr", { "data-assignment": a.id },
        h("td", {}, a.call_sign),
        h("td", {}, words(a.role)),
        h("td", { class: `status ${a.status}`, "data-status": a.status }, words(a.status)),
        h("td", {}, minutes(a.eta_seconds)),
        h("td", {}, clock(a.updated_at)),
        h("td", {}, a.updated_by, a.override_reason ? h("div", { class: "muted" }, `override: ${a.override_reason}`) : null),
        h("td", { class: "steps" }, (STEPS[a.status] ?? []).map(([status, label]) =>
          h("button", { type: "button", class: "secondary", "data-step": status,
            "aria-label": `${label}: ${a.call_sign}`, onclick: () => step(a.id, status) }, label)))))),
  );
}

function sms(incident, messages) {
  if (messages && messages.length) {
    return h("ul", { class: "messages" }, messages.map((m) =>
      h("li", { "data-message": m.id },
        h("span", { class: `status ${m.status}` }, words(m.status)),
        ` to ${m.to_masked ?? "?"}: `,
        h("q", {}, m.body),
        m.error_message ? h("span", { class: "error" }, ` ${m.error_message}`) : null)));
  }
  if (incident.notifications.length) {
    return h("ul", {}, incident.notifications.map((n) =>
      h("li", {}, h("span", { class: `status ${n.status}` }, words(n.status)), ` ${n.channel} to ${n.to_masked ?? "?"}`)));
  }
  return h("p", { class: "muted" }, "No message sent yet.");
}
