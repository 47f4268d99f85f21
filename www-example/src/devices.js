// "Your devices": every session of the signed-in user, from the library's listSessions() (GET /auth/sessions),
// and ending one of them with revokeSession(handle) (DELETE /auth/sessions/<handle>). The browser whose
// session ended finds itself signed out at its next request.
import * as session from "fauna-session";

/** Fill `tbody` with the user's sessions; the end buttons call `onEnd(handle)`. */
export async function showDevices(tbody, onEnd) {
  const sessions = await session.listSessions();
  sessions.sort((a, b) => Number(b.current) - Number(a.current) || b.lastActive - a.lastActive);
  tbody.replaceChildren(...sessions.map((s) => row(s, onEnd)));
  return sessions;
}

/** End session `handle`; true if it was one of the user's live sessions. */
export function endSession(handle) {
  return session.revokeSession(handle);
}

function row(s, onEnd) {
  const tr = document.createElement("tr");
  tr.dataset.handle = s.sessionHandle;
  tr.dataset.current = String(s.current);
  const device = cell(describeAgent(s.userAgent));
  device.title = s.userAgent ?? "";
  if (s.current) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "this device";
    device.append(" ", badge);
  }
  const action = document.createElement("td");
  if (!s.current) {
    const end = document.createElement("button");
    end.className = "end-session";
    end.textContent = "End session";
    end.addEventListener("click", () => onEnd(s.sessionHandle));
    action.append(end);
  }
  tr.append(device, cell(s.ip ?? "–"), cell(when(s.timeCreated)), cell(when(s.lastActive)), action);
  return tr;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

const when = (ms) => (typeof ms === "number" ? new Date(ms).toLocaleString() : "–");

/** "Chrome 140 on Linux" from a user agent, else the user agent itself (or "unknown device"). */
function describeAgent(ua) {
  if (!ua) return "unknown device";
  const browser = ua.match(/(Firefox|Edg|OPR|Chrome|Version(?=\/[\d.]+ Safari))\/(\d+)/);
  const os = ua.match(/Windows|Android|iPhone|iPad|Mac OS X|CrOS|Linux/);
  if (!browser) return ua;
  const name = { Edg: "Edge", OPR: "Opera", Version: "Safari" }[browser[1]] ?? browser[1];
  return `${name} ${browser[2]}${os ? ` on ${os[0].replace("Mac OS X", "macOS")}` : ""}`;
}
