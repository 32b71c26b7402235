// The console's entry point: sign in, then wire alerts, intake, queue, incident pane, unit
// board and the live stream together. Signing out, the idle lock, or an ended session puts
// everything away: the stream is closed, every panel is emptied and every list in memory
// dropped, so nothing of the last call is left in the page for the next person.

import { AlertsPanel } from "./alerts.js";
import { IncidentPane } from "./incident.js";
import { setUpIntake } from "./intake.js";
import { LiveUpdates } from "./live.js";
import { IncidentQueue } from "./queue.js";
import { config, loadConfig, onSignedOut, signOut, SignedOutError } from "./session.js";
import { setUpSignIn } from "./signin.js";
import { UnitBoard } from "./units.js";

const signIn = document.getElementById("sign-in");
const desk = document.getElementById("desk");
const who = document.getElementById("who");
const signOutButton = document.getElementById("sign-out");
const note = document.getElementById("sign-in-note");

const board = new UnitBoard();
const pane = new IncidentPane({
  onShown: (incident) => board.showIncident(incident),
  onPin: (incident, done) => board.armPin(incident, done),
});
const queue = new IncidentQueue({
  onSelect: (id) => pane.show(id).catch(report),
  onLoaded: (list) => board.showIncidents(list),
});
const alerts = new AlertsPanel({ onOpen: (id) => queue.select(id) });
const live = new LiveUpdates({
  indicator: document.getElementById("connection"),
  onIncidents: (ids) => {
    queue.changed().catch(report);
    if (pane.id && ids.includes(pane.id)) pane.refresh().catch(report);
    // Offers and closings move units too; alerts are raised, taken and cleared with
    // a line on the incident's timeline.
    board.reload().catch(report);
    alerts.reload().catch(report);
  },
  onUnits: () => board.reload().catch(report),
  onResync: () => {
    queue.reload().catch(report);
    board.reload().catch(report);
    alerts.reload().catch(report);
    pane.refresh().catch(report);
  },
});

function report(error) {
  if (error instanceof SignedOutError) return; // an answer for the last user, dropped
  console.error(error);
}

const resetSignIn = setUpSignIn(async (username) => {
  note.textContent = "";
  signIn.hidden = true;
  desk.hidden = false;
  signOutButton.hidden = false;
  who.textContent = `Signed in as ${username}`;
  document.getElementById("narrative").focus();
  live.start();
  await Promise.all([queue.reload(), board.reload(), alerts.reload()]).catch(report);
});

const clearIntake = setUpIntake({ onSubmitted: (id) => queue.reload().then(() => queue.select(id)).catch(report) });

// Alt+N: a new call (the narrative); Alt+Q: the incident queue; Alt+A: the alerts.
// Alt, so typing is never taken.
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || desk.hidden) return;
  const key = event.key.toLowerCase();
  if (key === "n") {
    event.preventDefault();
    document.getElementById("narrative").focus();
  } else if (key === "q") {
    event.preventDefault();
    (document.querySelector("#queue-rows tr[data-id]") ?? document.getElementById("filter-status")).focus();
  } else if (key === "a") {
    event.preventDefault();
    (document.querySelector("#alert-list button") ?? document.getElementById("alerts-title")).focus();
  }
});

signOutButton.addEventListener("click", () => signOut());
onSignedOut((reason) => {
  live.stop();
  desk.hidden = true;
  alerts.clear();
  queue.clear();
  pane.clear();
  board.clear();
  clearIntake();
  signIn.hidden = false;
  signOutButton.hidden = true;
  who.textContent = "";
  resetSignIn({ forget: true });
  note.textContent = reason === "locked"
    ? `Locked after ${Math.round(config.idle_lock_s / 60)} min without use. Sign in again.`
    : reason === "signed-out" ? "Signed out." : "The session ended. Sign in again.";
  document.getElementById("username").focus();
});

loadConfig().catch(report);
document.getElementById("username").focus();
