// The bearer token: kept in sessionStorage (one tab's session). A SaaS that embeds the page may
// hand its own identity-provider token as /billing#token=<jwt>; it is moved to sessionStorage
// and the fragment stripped, so it does not stay in the address bar or the history.
export const TOKEN_KEY = "billing-gateway.token";
export const RETURN_URL_KEY = "billing-gateway.return-url";

export function takeToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function sandboxUsers() {
  const response = await fetch("/billing/sandbox/users", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.json()).users;
}

export async function sandboxToken(email) {
  const response = await fetch("/billing/sandbox/token", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ email }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.errors?.[0]?.message || `HTTP ${response.status}`);
  return body.token;
}
