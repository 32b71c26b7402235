// Call intake, built for speed: narrative first, protocol answers as yes / no / unknown radio
// groups (arrow keys move within a group, Tab between groups), Ctrl+Enter submits from
// anywhere in the form, and the triage preview follows the typing (debounced).

import { h, priorityBadge, replace, words } from "./dom.js";
import { api, config } from "./session.js";

const QUESTIONS = [
  ["weapons", "Weapons?"],
  ["violence", "Violence now?"],
  ["threat_to_others", "Threat to others?"],
  ["suicidal", "Suicidal?"],
  ["conscious", "Conscious?"],
  ["breathing", "Breathing?"],
  ["injury", "Injured?"],
  ["substance_use", "Substance use?"],
  ["overdose_suspected", "Overdose suspected?"],
  ["children_present", "Children present?"],
  ["crime_in_progress", "Crime in progress?"],
];
const DEBOUNCE_MS = 300;

export function setUpIntake({ onSubmitted }) {
  const form = document.getElementById("intake-form");
  const status = document.getElementById("intake-status");
  const preview = document.getElementById("preview-body");
  const answers = document.getElementById("answers");
  answers.replaceChildren(
    ...QUESTIONS.map(([key, text]) =>
      h(
        "fieldset",
        { class: "answer" },
        h("legend", {}, text),
        ...[["true", "yes"], ["false", "no"], ["", "unknown"]].map(([value, label]) =>
          h(
            "label",
            {},
            h("input", { type: "radio", name: `answer-${key}`, value, checked: value === "" }),
            label,
          ),
        ),
      ),
    ),
  );

  let timer = null;
  let asked = 0;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(runPreview, DEBOUNCE_MS);
  };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  async function runPreview() {
    const call = read(form, { forPreview: true });
    if (!call.narrative.trim()) {
      replace(preview, h("p", { class: "muted" }, "Type the narrative to see who would go."));
      return;
    }
    if (!config.triage_url) {
      replace(preview, h("p", { class: "muted" }, "Triage preview is not configured (CORESPOND_TRIAGE_PUBLIC_URL)."));
      return;
    }
    const mine = ++asked;
    try {
      const decision = await api("/v1/triage/preview", { method: "POST", body: call, base: config.triage_url });
      if (mine === asked) {
        replace(preview, decisionView(decision));
        askFirst(form, decision);
      }
    } catch (error) {
      if (mine === asked) replace(preview, h("p", { class: "error" }, `Preview unavailable: ${error.message}`));
    }
  }

  // Signing out: nothing typed for the last call stays in the form or the preview.
  function clear() {
    clearTimeout(timer);
    asked += 1; // a preview still on its way is dropped
    form.reset();
    status.textContent = "";
    replace(preview, h("p", { class: "muted" }, "Type the narrative to see who would go."));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const call = read(form, { forPreview: false });
    status.textContent = "Submitting…";
    try {
      const accepted = await api("/v1/calls", { method: "POST", body: call });
      status.textContent = `Call received: incident ${accepted.incident_code}.`;
      form.reset();
      replace(preview, h("p", { class: "muted" }, "Type the narrative to see who would go."));
      form.narrative.focus();
      onSubmitted(accepted.incident_id);
    } catch (error) {
      const fields = (error.problem?.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
      status.textContent = `Not submitted: ${fields || error.message}`;
    }
  });
  return clear;
}

// Key questions (issue 15): the first unanswered question that would change the decision
// takes the focus while the call-taker is working through the answers (never while typing
// in a text field).
function askFirst(form, decision) {
  const first = decision.key_questions?.[0];
  const here = document.activeElement;
  const answering = here === document.body || form.querySelector("#answers")?.contains(here);
  if (first && answering) form.querySelector(`input[name="answer-${first.answer}"]:checked`)?.focus();
}

function read(form, { forPreview }) {
  const answers = {};
  for (const [key] of QUESTIONS) {
    const chosen = form.querySelector(`input[name="answer-${key}"]:checked`)?.value ?? "";
    answers[key] = chosen === "" ? null : chosen === "true";
  }
  const number = (text) => (text.trim() === "" ? null : Number(text));
  const location = {};
  const address = form.address.value.trim();
  if (address) location.address = address;
  const lat = number(form.lat.value);
  const lon = number(form.lon.value);
  if (lat !== null) location.lat = lat;
  if (lon !== null) location.lon = lon;
  const call = {
    narrative: form.narrative.value,
    answers,
    source: form.source.value,
    jurisdiction: form.jurisdiction.value,
  };
  if (Object.keys(location).length) call.location = location;
  const phone = form["caller-phone"].value.trim();
  if (phone && !forPreview) call.caller = { phone };
  // Dispatch prefers a unit that speaks it; triage's preview does not need it.
  const language = form["caller-language"].value.trim();
  if (language && !forPreview) call.language = language;
  return call;
}

export function decisionView(decision) {
  return h(
    "div",
    {},
    h(
      "p",
      {},
      priorityBadge(decision.priority),
      " ",
      h("strong", {}, words(decision.response_model)),
      " — roles: ",
      decision.roles.map((r) => h("span", { class: "pill" }, words(r))),
    ),
    decision.flags.length ? h("p", {}, "Flags: ", decision.flags.map((f) => h("span", { class: "pill" }, words(f)))) : null,
    decision.needs_answers ? h("p", { class: "error" }, "Provisional: safety not established — ask:") : null,
    decision.key_questions?.length
      ? h("ol", { class: "key-questions", "aria-label": "Key questions" }, decision.key_questions.map((q) =>
          h("li", {}, q.ask, h("span", { class: "muted" }, ` ${q.if_answer ? "yes" : "no"} → ${q.changes}`)),
        ))
      : null,
    h("ul", { class: "reasons" }, decision.rationale.map((r) =>
      h("li", {}, r.reason, r.evidence?.length ? h("span", { class: "muted" }, ` (${r.evidence.join(", ")})`) : null),
    )),
  );
}
