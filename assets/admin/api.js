// The console's only way to the store: POST /graphql with the admin's
// bearer token. Documents are written as literals tagged with gql, without
// interpolation, so tests/api/admin_console.rs can find every one of them
// and check it against the served schema.

/** Marks a GraphQL document (tests extract these). */
export const gql = (strings) => strings[0];

const KEY = 'siyu.admin.session';

/** An error the API answered, with its extensions.code. */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code || 'ERROR';
  }
  toString() {
    return `${this.message} (${this.code})`;
  }
}

// sessionStorage: the session ends with the tab, and other sites' pages
// cannot read it; the CSP keeps foreign scripts out of ours.
export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

function keep(payload) {
  sessionStorage.setItem(
    KEY,
    JSON.stringify({
      accessToken: payload.accessToken,
      refreshToken: payload.refreshToken,
      expiresAt: payload.expiresAt,
      staffRole: payload.staffRole,
    }),
  );
}

/** The signed-in account's staff role (OWNER, OPERATIONS, CUSTOMER_SERVICE, FINANCE). */
export function staffRole() {
  const s = session();
  return (s && s.staffRole) || null;
}

/**
 * Whether the signed-in role may use what `roles` admits (the owner may
 * use everything; no list: every role). Only hides what the server would
 * refuse anyway: the API checks every call.
 */
export function can(roles) {
  const role = staffRole();
  return !roles || role === 'OWNER' || roles.includes(role);
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

let onSignedOut = () => {};
/** Called when the session is gone (refresh refused): back to the login page. */
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

/** The `data` of one answer, or its first error thrown. */
function dataOf(body) {
  if (body && body.errors && body.errors.length > 0) {
    const e = body.errors[0];
    throw new ApiError(e.message, e.extensions && e.extensions.code);
  }
  return body.data;
}

async function post(query, variables, token) {
  const body = await send({ query, variables }, token);
  return dataOf(body);
}

/** POSTs one request or a batch (an array); answers the parsed body. */
async function send(payload, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify(payload),
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(`网络错误: ${e.message}`, 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`服务器返回 HTTP ${res.status}`, 'HTTP_' + res.status);
  }
  if (Array.isArray(payload) && !Array.isArray(body)) dataOf(body);
  return body;
}

const LOGIN = gql`
  mutation ConsoleLogin($username: String!, $password: String!) {
    adminLogin(username: $username, password: $password) {
      accessToken
      refreshToken
      expiresAt
      role
      staffRole
    }
  }
`;

const REFRESH = gql`
  mutation ConsoleRefresh($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      accessToken
      refreshToken
      expiresAt
      role
      staffRole
    }
  }
`;

const LOGOUT = gql`
  mutation ConsoleLogout {
    logout
  }
`;

export async function login(username, password) {
  const data = await post(LOGIN, { username, password });
  if (data.adminLogin.role !== 'ADMIN') {
    throw new ApiError('该账号不是管理员', 'FORBIDDEN');
  }
  keep(data.adminLogin);
}

// One refresh at a time: refresh tokens are single use, so two requests
// refreshing at once would each spend it.
let refreshing = null;
function refresh() {
  if (!refreshing) {
    const s = session();
    refreshing = (async () => {
      if (!s) throw new ApiError('未登录', 'UNAUTHENTICATED');
      const data = await post(REFRESH, { refreshToken: s.refreshToken });
      keep(data.refreshToken);
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

const SKEW_MS = 30_000;

/** Runs a document as the signed-in admin, refreshing the token when needed. */
export function request(query, variables = {}) {
  return authorized((token) => post(query, variables, token));
}

/** The server's MAX_BATCH default: operations per batched request. */
const BATCH = 10;

/**
 * One document with many variable sets, sent as batches (a batch counts
 * once against the per-IP rate limit); resolves to the data of each, in
 * order, or throws the first error.
 */
export async function requestMany(query, variableSets) {
  const out = [];
  for (let i = 0; i < variableSets.length; i += BATCH) {
    const chunk = variableSets.slice(i, i + BATCH).map((variables) => ({ query, variables }));
    // Inside the call, so an expired token in the answers is refreshed too.
    out.push(...(await authorized(async (token) => (await send(chunk, token)).map(dataOf))));
  }
  return out;
}

async function authorized(call) {
  let s = session();
  if (!s) {
    onSignedOut();
    throw new ApiError('未登录', 'UNAUTHENTICATED');
  }
  try {
    if (Date.parse(s.expiresAt) - Date.now() < SKEW_MS) {
      await refresh();
      s = session();
    }
    return await call(s.accessToken);
  } catch (e) {
    if (e.code !== 'UNAUTHENTICATED') throw e;
    try {
      await refresh();
    } catch (refused) {
      forget();
      onSignedOut();
      throw refused;
    }
    return call(session().accessToken);
  }
}

/**
 * GETs a file of this server (a CSV under /exports) as the signed-in admin,
 * with the same bearer token and refresh as the API; resolves to a Blob.
 * A refusal throws the server's text with a code like the API's.
 */
export function fetchFile(path) {
  return authorized(async (token) => {
    let res;
    try {
      res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, credentials: 'omit' });
    } catch (e) {
      throw new ApiError(`网络错误: ${e.message}`, 'NETWORK');
    }
    if (!res.ok) {
      const codes = { 400: 'BAD_USER_INPUT', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN' };
      const text = await res.text().catch(() => '');
      throw new ApiError(text || `服务器返回 HTTP ${res.status}`, codes[res.status] || 'HTTP_' + res.status);
    }
    return res.blob();
  });
}

export async function logout() {
  const s = session();
  if (s) {
    // Ends the session on the server too; the page forgets it either way.
    await post(LOGOUT, {}, s.accessToken).catch(() => {});
  }
  forget();
}
