// The account forms are plain FDI calls (SuperTokens' email-password and email-verification recipes),
// one `fetch` each through the patched `fetch`, so the fauna-session interceptor adds the session where
// there is one and picks up the session cookies and `front-token` header the server answers with:
//
//   POST /auth/signup, /auth/signin        { formFields: [email, password] }  → a session
//   POST /auth/user/password/reset/token   { formFields: [email] }            → an email with a reset link
//   POST /auth/user/password/reset         { method, token, formFields: [password] }
//   POST /auth/user/email/verify/token     (the session)                       → an email with a verify link
//   POST /auth/user/email/verify           { method, token }

/** @typedef {{ ok: true, body: any } | { ok: false, message: string, status?: string }} Outcome */

/**
 * @param {"signup" | "signin"} action
 * @param {string} email
 * @param {string} password
 * @returns {Promise<Outcome>}
 */
export function signUpOrIn(action, email, password) {
  return post(`/auth/${action}`, "emailpassword", {
    formFields: [
      { id: "email", value: email },
      { id: "password", value: password },
    ],
  });
}

/** Ask for a reset link. The server answers OK whether or not the email has an account. */
export function requestPasswordReset(email) {
  return post("/auth/user/password/reset/token", "emailpassword", {
    formFields: [{ id: "email", value: email }],
  });
}

/** Set a new password with the token of the emailed link. The server then ends every session of the user. */
export function resetPassword(token, password) {
  return post("/auth/user/password/reset", "emailpassword", {
    method: "token",
    token,
    formFields: [{ id: "password", value: password }],
  });
}

/** Email the signed-in user a verification link. */
export function sendVerificationEmail() {
  return post("/auth/user/email/verify/token", "emailverification", {});
}

/** Verify the email with the token of the emailed link (this browser's session, if any, gets `st-ev` true). */
export function verifyEmail(token) {
  return post("/auth/user/email/verify", "emailverification", { method: "token", token });
}

/** The `token` of an emailed link (`…/reset-password?token=…&tenantId=public`) opened in this page. */
export function tokenFromLink() {
  return new URLSearchParams(window.location.search).get("token") ?? "";
}

async function post(path, rid, body) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json", rid },
      body: JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, message: `The server could not be reached (${error.message}).` };
  }
  const answer = await response.json().catch(() => ({}));
  if (response.ok && answer.status === "OK") return { ok: true, body: answer };
  return { ok: false, status: answer.status, message: describeFailure(response.status, answer) };
}

function describeFailure(status, body) {
  switch (body.status) {
    case "WRONG_CREDENTIALS_ERROR":
      return "Wrong email or password.";
    case "FIELD_ERROR":
      return (body.formFields ?? []).map((f) => `${f.id}: ${f.error}`).join("; ") || "Invalid form.";
    case "EMAIL_ALREADY_EXISTS_ERROR":
      return "This email is already registered: sign in instead.";
    case "RESET_PASSWORD_INVALID_TOKEN_ERROR":
      return "This reset link is invalid, used or expired: ask for a new one.";
    case "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR":
      return "This verification link is invalid, used or expired: send a new one.";
    case "EMAIL_ALREADY_VERIFIED_ERROR":
      return "Your email is already verified.";
    case "GENERAL_ERROR":
      return body.message ?? "The server refused.";
    default:
      return `The server answered ${status}${body.message ? `: ${body.message}` : ""}.`;
  }
}
