// The admin's one way to change anything: the shop's REST API, same origin. The session's
// tokens live in this module's memory only (never in the browser's storage): a reload signs out, a stolen
// page script finds nothing stored.

let session = null; // {access, refresh, renewAt, user}
let renewing = null;

/** A problem the API answered (RFC 9457), or a network failure. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || null;
    this.problem = problem;
  }
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText };
  }
}

function keep(tokens, user) {
  // Renewed a little before it expires, so no call carries a token that ends on the way.
  const life = Math.max(10, (tokens.expires_in || 900) - 30);
  session = {
    access: tokens.access_token,
    refresh: tokens.refresh_token,
    renewAt: Date.now() + life * 1000,
    user: user || (session && session.user) || null,
  };
}

/** Signs in with the API's login; refuses accounts that do not run the shop. */
export async function signIn(email, password) {
  const response = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  keep(await response.json(), null);
  const user = await api("GET", "/users/profile");
  if (!["admin", "manager", "vendor"].includes(user.role)) {
    await signOut();
    throw new ApiError(403, { detail: "This account does not run the shop." });
  }
  session.user = user;
  return user;
}

/** Ends the session at the server (its refresh token revoked) and here. */
export async function signOut() {
  const ending = session;
  session = null;
  if (ending && ending.refresh) {
    try {
      await fetch("/api/auth/logout", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: ending.refresh }),
      });
    } catch {
      // Signed out here whatever the network says.
    }
  }
}

export function currentUser() {
  return session ? session.user : null;
}

/** A new pair of tokens from the refresh token; one renewal at a time. */
async function renew() {
  if (!session) throw new ApiError(401, { detail: "Signed out." });
  if (!renewing) {
    const refresh = session.refresh;
    renewing = (async () => {
      const response = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: refresh }),
      });
      if (!response.ok) {
        session = null;
        throw new ApiError(401, { detail: "Your session ended: sign in again." });
      }
      keep(await response.json());
    })().finally(() => {
      renewing = null;
    });
  }
  return renewing;
}

/**
 * Calls `/api{path}`. `options.body` is sent as JSON, `options.form` as multipart,
 * `options.headers` added; `options.raw` returns the response itself. A 401 renews the
 * access token once and tries again; other failures throw an ApiError with the problem.
 */
export async function api(method, path, options = {}) {
  if (!session) throw new ApiError(401, { detail: "Signed out." });
  if (Date.now() > session.renewAt) await renew();
  const send = () => {
    const headers = { authorization: `Bearer ${session.access}`, ...(options.headers || {}) };
    let body;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    } else if (options.form) {
      body = options.form;
    }
    return fetch(`/api${path}`, { method, headers, body });
  };
  let response = await send();
  if (response.status === 401 && session) {
    await renew();
    response = await send();
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (options.raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}
