// Querying Fauna straight from the browser with the official driver (FQL v10).
//
// The secret is the user's short-lived Fauna token, read from the access-token
// payload right before each query. Its role lets it read and write the `Note`
// collection only, so anything else is refused by Fauna itself.
import { Client, fql, ServiceError } from "fauna";

// Not on the app's host name: fauna-session intercepts every request to the API's host
// (ports ignored), and Fauna requests must go out untouched. /config.json overrides it.
let endpoint = new URL("http://localhost:8443");

/** Where the Fauna HTTP API is (from /config.json). */
export function setFaunaEndpoint(url) {
  endpoint = new URL(url);
}

/** Run one FQL query with the given secret; always closes the client. */
async function run(secret, query) {
  const client = new Client({ secret, endpoint });
  try {
    const result = await client.query(query);
    return { ok: true, data: result.data };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  } finally {
    client.close();
  }
}

function describeError(error) {
  if (error instanceof ServiceError) {
    return { status: error.httpStatus, code: error.code, message: error.message };
  }
  return { status: 0, code: "network", message: String(error?.message ?? error) };
}

/** The first page of `Note.all()`: notes are shared by all signed-in users. */
export function listNotes(secret) {
  return run(secret, fql`Note.all()`);
}

/** Create one note (the text is passed as an argument, never spliced into FQL). */
export function createNote(secret, text) {
  return run(secret, fql`Note.create({ text: ${text} })`);
}

/** Something the token's role does not allow: listing every user. */
export function forbiddenQuery(secret) {
  return run(secret, fql`User.all().toArray()`);
}
