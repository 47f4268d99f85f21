// Querying Fauna straight from the browser with the official driver (FQL v10), with the token managed by the
// session: `init({ fauna: { endpoint, minValiditySeconds } })` (in main.js) makes every request to the Fauna
// endpoint carry the user's short-lived faunadbToken, refreshed first when it would live less than 2 s, and a
// Fauna 401 refreshes the session once and retries. So the app creates ONE client, with a placeholder secret,
// and never handles a token. The token's role lets it read and write the `Note` collection only, so anything else
// is refused by Fauna itself.
import { Client, fql, ServiceError } from "fauna";

let client = null;

/** The page's one Fauna client, for the endpoint from /config.json. */
export function startFauna(endpoint) {
  client = new Client({ secret: "managed-by-fauna-session", endpoint: new URL(endpoint) });
}

async function run(query, using = client) {
  try {
    const result = await using.query(query);
    return { ok: true, data: result.data };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}

function describeError(error) {
  if (error instanceof ServiceError) {
    return { status: error.httpStatus, code: error.code, message: error.message };
  }
  return { status: 0, code: "network", message: String(error?.message ?? error) };
}

/** The first page of `Note.all()`: notes are shared by all signed-in users. */
export function listNotes() {
  return run(fql`Note.all()`);
}

/** Create one note (the text is passed as an argument, never spliced into FQL). */
export function createNote(text) {
  return run(fql`Note.create({ text: ${text} })`);
}

/** Something the token's role does not allow: listing every user. */
export function forbiddenQuery() {
  return run(fql`User.all().toArray()`);
}

/**
 * A query with an explicit secret (the token of a session that has ended), to show Fauna refuses it. Sent
 * while signed out, so the session does not manage it.
 */
export async function listNotesWith(secret, endpoint) {
  const own = new Client({ secret, endpoint: new URL(endpoint) });
  try {
    return await run(fql`Note.all()`, own);
  } finally {
    own.close();
  }
}
