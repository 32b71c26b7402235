// The reports page: signs in like the console, then shows each chart of the outcome report
// as the SVG dispatch draws (GET /v1/reports/outcomes/charts/{name}) with a CSV download.
// The token stays in memory (session.js); charts and CSV are fetched with it, never by URL.

import { h, replace } from "./dom.js";
import { setUpSignIn } from "./signin.js";
import { ApiError, renew, token } from "./session.js";

const CHARTS = [
  ["deflection-by-program", "Deflection rate by program"],
  ["deflection-trend", "Deflection rate by week"],
  ["funnel", "From call to follow-up"],
];

async function fetched(path, retried = false) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (response.status === 401 && !retried && (await renew())) return fetched(path, true);
  if (!response.ok) {
    throw new ApiError(response.status, await response.json().catch(() => null));
  }
  return response;
}

function period() {
  const form = document.getElementById("period-form");
  const since = `${form.since.value}T00:00:00Z`;
  const until = `${form.until.value}T00:00:00Z`;
  return new URLSearchParams({ since, until });
}

async function chart(name, title) {
  const params = period();
  const base = `/v1/reports/outcomes/charts/${name}`;
  const svgText = await (await fetched(`${base}?${params}`)).text();
  const drawing = new DOMParser().parseFromString(svgText, "image/svg+xml").documentElement;
  const download = h("a", { href: "#", class: "csv" }, "Download CSV");
  download.addEventListener("click", async (event) => {
    event.preventDefault();
    params.set("format", "csv");
    const blob = await (await fetched(`${base}?${params}`)).blob();
    const link = h("a", { href: URL.createObjectURL(blob), download: `${name}.csv` });
    link.click();
    URL.revokeObjectURL(link.href);
  });
  return h("figure", { class: "chart", "data-chart": name },
    document.importNode(drawing, true),
    h("figcaption", {}, title, " ", download));
}

async function show() {
  const error = document.getElementById("reports-error");
  error.textContent = "";
  try {
    const drawn = [];
    for (const [name, title] of CHARTS) drawn.push(await chart(name, title));
    replace(document.getElementById("charts"), ...drawn);
  } catch (problem) {
    error.textContent = problem instanceof ApiError ? problem.message : "The server could not be reached.";
  }
}

function start(username) {
  document.getElementById("sign-in").hidden = true;
  document.getElementById("reports").hidden = false;
  document.getElementById("who").textContent = username;
  const form = document.getElementById("period-form");
  // The last 30 days, today included ("to" is excluded, so it is tomorrow).
  const tomorrow = new Date(Date.now() + 86400000);
  const monthAgo = new Date(tomorrow.getTime() - 30 * 86400000);
  form.until.value = tomorrow.toISOString().slice(0, 10);
  form.since.value = monthAgo.toISOString().slice(0, 10);
  show();
}

document.getElementById("period-form").addEventListener("submit", (event) => {
  event.preventDefault();
  show();
});
document.getElementById("print").addEventListener("click", () => window.print());
setUpSignIn(start);
