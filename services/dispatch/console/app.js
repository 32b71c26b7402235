// The console's entry point: sign in, then wire intake, queue, incident pane, unit board
// and the live stream together; sign out (or an ended session) puts everything away.

import { IncidentPane } from "./incident.js";
import { setUpIntake } from "./intake.js";
import { LiveUpdates } from "./live.js";
import { IncidentQueue } from "./queue.js";
import { loadConfig, onSignedOut, signOut } from "./session.js";
import { setUpSignIn } from "./signin.js";
import { UnitBoard } from "./units.js";

const signIn = document.getElementById("sign-in");
const desk = document.getElementById("desk");
const who = document.getElementById("who");
const signOutButton = document.getElementById("sign-out");

const board = new UnitBoard();
const pane = new IncidentPane({ onShown: (incident) => board.showIncident(incident) });
const queue = new IncidentQueue({ onSelect: (id) => pane.show(id).catch(report) });
const live = new LiveUpdates({
  indicator: document.getElementById("connection"),
  onIncidents: (ids) => {
    queue.changed().then(() => {
      board.codes = new Map([...queue.incidents.values()].map((i) => [i.id, i.code]));
    }).catch(report);
    if (pane.id && ids.includes(pane.id)) pane.refresh().catch(report);
    // Offers and closings move units too.
    board.reload().catch(report);
  },
  onUnits: () => board.reload().catch(report),
  onResync: () => {
    queue.reload().catch(report);
    board.reload().catch(report);
    pane.refresh().catch(report);
  },
});

function report(error) {
  console.error(error);
}

const resetSignIn = setUpSignIn(async (username) => {
  signIn.hidden = true;
  desk.hidden = false;
  signOutButton.hidden = false;
  who.textContent = `Signed in as ${username}`;
  document.getElementById("narrative").focus();
  live.start();
  await Promise.all([queue.reload(), board.reload()]).catch(report);
});

setUpIntake({ onSubmitted: (id) => queue.reload().then(() => queue.select(id)).catch(report) });

// Alt+N: a new call (the narrative); Alt+Q: the incident queue. Alt, so typing is never taken.
document.addEventListener("keydown", (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey || desk.hidden) return;
  const key = event.key.toLowerCase();
  if (key === "n") {
    event.preventDefault();
    document.getElementById("narrative").focus();
  } else if (key === "q") {
    event.preventDefault();
    (document.querySelector("#queue-rows tr[data-id]") ?? document.getElementById("filter-status")).focus();
  }
});

signOutButton.addEventListener("click", () => signOut());
onSignedOut(() => {
  live.stop();
  desk.hidden = true;
  signIn.hidden = false;
  signOutButton.hidden = true;
  who.textContent = "";
  resetSignIn();
  document.getElementById("username").focus();
});

loadConfig().catch(report);
document.getElementById("username").focus();
