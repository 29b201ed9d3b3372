// A portal session's link was exchanged (gateway/portal_session_route.py): keep its short-lived
// token where the billing page's shell reads it, and where "back to the application" leads, then
// open the billing page. `replace` keeps the one-time link out of the history.
const meta = document.querySelector('meta[name="billing-gateway-session"]');
const session = JSON.parse(meta.content);
sessionStorage.setItem(session.tokenKey, session.token);
sessionStorage.setItem(session.returnUrlKey, session.returnUrl);
location.replace("/billing");
