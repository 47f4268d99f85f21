// Sign-up and sign-in are plain FDI calls (SuperTokens' email-password recipe):
// POST /auth/signup or /auth/signin with the form fields. The server answers with
// session cookies and a `front-token` header, which the fauna-session interceptor
// picks up, because the call goes through the patched `fetch`.

/**
 * @param {"signup" | "signin"} action
 * @param {string} email
 * @param {string} password
 * @returns {Promise<{ ok: true, userId: string } | { ok: false, message: string }>}
 */
export async function signUpOrIn(action, email, password) {
  const response = await fetch(`/auth/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json", rid: "emailpassword" },
    body: JSON.stringify({
      formFields: [
        { id: "email", value: email },
        { id: "password", value: password },
      ],
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (response.ok && body.status === "OK") {
    return { ok: true, userId: body.user?.id };
  }
  return { ok: false, message: describeFailure(response.status, body) };
}

function describeFailure(status, body) {
  switch (body.status) {
    case "WRONG_CREDENTIALS_ERROR":
      return "Wrong email or password.";
    case "FIELD_ERROR":
      return (body.formFields ?? []).map((f) => `${f.id}: ${f.error}`).join("; ") || "Invalid form.";
    case "EMAIL_ALREADY_EXISTS_ERROR":
      return "This email is already registered: sign in instead.";
    case "GENERAL_ERROR":
      return body.message ?? "The server refused.";
    default:
      return `The server answered ${status}${body.message ? `: ${body.message}` : ""}.`;
  }
}
