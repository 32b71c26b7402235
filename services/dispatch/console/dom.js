// Building DOM nodes from data without innerHTML (nothing a caller said can become markup),
// and the small formatting helpers every panel uses.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function replace(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

// "3m 05s" since an ISO time: the queue's timers.
export function since(iso, now = Date.now()) {
  if (!iso) return "—";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
}

// With the zone (e.g. "02:17:54 MST"): times are compared with radio logs and other systems.
export function clock(iso) {
  return iso
    ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" })
    : "—";
}

export function minutes(seconds) {
  return seconds === null || seconds === undefined ? "—" : `${Math.max(1, Math.round(seconds / 60))} min`;
}

export function words(value) {
  return String(value ?? "").replaceAll("_", " ");
}

export const PRIORITY_NAMES = { 1: "P1 life threat", 2: "P2 urgent", 3: "P3 non-urgent" };

// Priority is shown as colour *and* text, never colour alone.
export function priorityBadge(priority) {
  const known = PRIORITY_NAMES[priority];
  return h("span", { class: `priority ${known ? "p" + priority : "none"}` }, known ?? "not triaged");
}
