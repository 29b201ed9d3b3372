// The billing page's shell (issue 14): signs in, loads the sections and hands each a `ctx`.
//
// Section module contract (portal/billing/sections/<name>.js):
//   export const id = "usage";                        // DOM anchor id, also the nav entry
//   export const messages = { en: {...}, it: {...} }; // every label in both; `title` names it
//   export function visible(ctx) { return true; }     // e.g. hide for roles that may not see it
//   export async function render(root, ctx) { ... }  // (re)draws into root (a <section>)
// Before each render the shell empties `root` and puts the section's <h2> (messages.title)
// first; render appends below it. A render that resolves to `false` hides the section and its
// nav entry (e.g. nothing applies to this organization).
//
// ctx: gql(operationName, variables) -> {data, errors} (persisted hash only; FORBIDDEN fields
// come back null with an error); t(key, params); money(m), date(iso), number(n) for the locale;
// lang, locale; role, canManageBilling, isOwner; organization {id, name}; user {email, name};
// refresh(); dialog({title, body, actions}); download(url, filename); announce(text) (screen
// readers); notify(text) (a visible notice above the sections until the next one);
// authenticatePayment({invoiceId, clientSecret}); sandbox; config; token; h(tag, props, ...kids).
import { openDialog } from "../shared/dialog.js";
import { h } from "../shared/dom.js";
import { formatters } from "../shared/format.js";
import { graphqlClient, SessionEnded } from "../shared/graphql.js";
import { initialLanguage, LANGUAGES, rememberLanguage, translator } from "../shared/i18n.js";
import { authenticatePayment } from "../shared/payment_action.js";
import { shellMessages } from "../shared/messages.js";
import {
  forgetToken,
  RETURN_URL_KEY,
  sandboxToken,
  sandboxUsers,
  storeToken,
  takeToken,
} from "../shared/session.js";

// In page order; a section whose module is missing is left out.
export const SECTIONS = [
  "plan",
  "change",
  "usage",
  "invoices",
  "credit_notes",
  "billing_info",
  "payment_methods",
  "preferences",
  "cancel",
  "account_change",
  "notifications",
];

const config = JSON.parse(
  document.querySelector('meta[name="billing-gateway-config"]')?.content || "{}",
);
const state = { lang: initialLanguage(), token: null, shell: null, sections: [] };
const app = document.getElementById("app");
const live = document.getElementById("live");

function shellT() {
  return translator(state.lang, shellMessages);
}

function setLanguage(lang) {
  state.lang = lang;
  rememberLanguage(lang);
  document.documentElement.lang = lang;
  document.title = shellT()("page.title");
}

function baseContext() {
  const format = formatters(state.lang);
  const role = state.shell?.organization?.viewerRole ?? null;
  const ctx = {
    lang: state.lang,
    locale: format.locale,
    money: format.money,
    date: format.date,
    number: format.number,
    role,
    canManageBilling: role === "OWNER" || role === "BILLING_ADMIN",
    isOwner: role === "OWNER",
    organization: state.shell?.organization ?? null,
    user: state.shell?.viewer?.user ?? null,
    sandbox: Boolean(config.sandbox),
    config,
    token: state.token,
    h,
    gql: graphqlClient(() => state.token, sessionEnded),
    refresh: () => renderSections(),
    announce(text) {
      live.textContent = "";
      setTimeout(() => (live.textContent = text), 50);
    },
    notify(text, tone = "info") {
      const notice = document.getElementById("notice");
      notice.className = `notice card status-${tone}`;
      notice.textContent = text;
      notice.hidden = !text;
    },
    async download(url, filename) {
      const response = await fetch(url, { headers: { authorization: `Bearer ${state.token}` } });
      if (response.status === 401) return sessionEnded();
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try {
          message = (await response.json()).errors[0].message;
        } catch {}
        throw new Error(message);
      }
      const link = h("a", { href: URL.createObjectURL(await response.blob()), download: filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    },
  };
  return ctx;
}

function sectionContext(base, module) {
  const t = translator(state.lang, module.messages || {}, shellMessages);
  const ctx = { ...base, t };
  ctx.dialog = (options) => openDialog({ closeLabel: t("close"), ...options });
  ctx.authenticatePayment = (payment) => authenticatePayment(ctx, payment);
  return ctx;
}

async function loadSections() {
  const loaded = await Promise.all(
    SECTIONS.map((name) =>
      import(`./sections/${name}.js`).catch((error) => {
        console.warn(`billing page: no section ${name}`, error);
        return null;
      }),
    ),
  );
  return loaded.filter(Boolean);
}

async function renderSections() {
  const base = baseContext();
  const t = shellT();
  const nav = h("ul");
  const main = document.getElementById("main");
  const visible = state.sections.filter((module) => {
    try {
      return module.visible ? module.visible(sectionContext(base, module)) : true;
    } catch {
      return false;
    }
  });
  const roots = visible.map((module) => {
    const ctx = sectionContext(base, module);
    nav.append(
      h("li", { "data-section": module.id }, h("a", { href: `#${module.id}`, text: ctx.t("title") })),
    );
    let root = document.getElementById(module.id);
    if (!root) {
      root = h("section", { id: module.id, class: "card", "aria-labelledby": `${module.id}-title` });
    }
    return { module, ctx, root };
  });
  main.replaceChildren(...roots.map((r) => r.root));
  document.getElementById("nav-list").replaceChildren(...nav.children);
  document.getElementById("nav").setAttribute("aria-label", t("nav.label"));
  await Promise.all(
    roots.map(async ({ module, ctx, root }) => {
      root.setAttribute("aria-busy", "true");
      const heading = h("h2", { id: `${module.id}-title`, text: ctx.t("title") });
      try {
        root.replaceChildren(heading);
        const shown = (await module.render(root, ctx)) !== false;
        root.hidden = !shown;
        const entry = document.querySelector(`#nav-list [data-section="${module.id}"]`);
        if (entry) entry.hidden = !shown;
      } catch (error) {
        if (error instanceof SessionEnded) return;
        console.error(`billing page: section ${module.id}`, error);
        root.replaceChildren(heading, h("p", { class: "error", role: "alert", text: t("section.failed") }));
      } finally {
        root.removeAttribute("aria-busy");
      }
    }),
  );
  document.body.dataset.ready = "true";
}

function header() {
  const t = shellT();
  const select = h(
    "select",
    {
      id: "language",
      onchange: (event) => {
        setLanguage(event.target.value);
        start();
      },
    },
    LANGUAGES.map((lang) => h("option", { value: lang, selected: lang === state.lang, text: t(`lang.${lang}`) })),
  );
  const who = state.shell
    ? h(
        "p",
        { class: "who" },
        h("span", { text: state.shell.organization?.name || "" }),
        " · ",
        h("span", { text: state.shell.viewer.user.email }),
        " · ",
        h("span", { class: "badge", text: t(`role.${state.shell.organization?.viewerRole}`) }),
      )
    : null;
  const signOut = state.token
    ? h("button", {
        type: "button",
        id: "sign-out",
        text: t("signout"),
        onclick: () => {
          forgetToken();
          state.token = null;
          state.shell = null;
          start();
        },
      })
    : null;
  // A portal session's returnUrl (kept by /billing/session/<secret>): the way back to the SaaS.
  const returnUrl = sessionStorage.getItem(RETURN_URL_KEY);
  const back =
    returnUrl && /^https?:\/\//.test(returnUrl)
      ? h("a", { href: returnUrl, id: "return-to-app", text: t("ended.return") })
      : null;
  return h(
    "header",
    { class: "top" },
    h("h1", { text: t("page.title") }),
    who,
    h("div", { class: "tools" }, back, h("label", { for: "language", text: t("lang.label") }), select, signOut),
  );
}

function layout(content) {
  const t = shellT();
  app.replaceChildren(
    h("a", { href: "#main", class: "skip", text: t("skip") }),
    header(),
    h("nav", { id: "nav", "aria-label": t("nav.label") }, h("ul", { id: "nav-list" })),
    h("p", { id: "notice", role: "status", hidden: true }),
    h("main", { id: "main" }, content),
  );
}

async function showSignIn() {
  const t = shellT();
  delete document.body.dataset.ready;
  if (!config.sandbox) {
    const returnUrl = sessionStorage.getItem(RETURN_URL_KEY);
    layout(
      h(
        "section",
        { class: "card", id: "session-ended", "aria-labelledby": "ended-title" },
        h("h2", { id: "ended-title", text: t("ended.title") }),
        h("p", { text: t("ended.body") }),
        returnUrl && /^https?:\/\//.test(returnUrl)
          ? h("p", {}, h("a", { href: returnUrl, text: t("ended.return") }))
          : null,
      ),
    );
    document.body.dataset.ready = "signed-out";
    return;
  }
  const list = h("ul", { class: "users" });
  const error = h("p", { class: "error", role: "alert" });
  layout(
    h(
      "section",
      { class: "card", id: "sign-in", "aria-labelledby": "signin-title" },
      h("h2", { id: "signin-title", text: t("signin.title") }),
      h("p", { text: t("signin.body") }),
      list,
      error,
    ),
  );
  try {
    for (const user of await sandboxUsers()) {
      list.append(
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              "data-email": user.email,
              onclick: async () => {
                try {
                  storeToken(await sandboxToken(user.email));
                  await start();
                } catch (failure) {
                  error.textContent = failure.message;
                }
              },
            },
            h("strong", { text: user.name }),
            ` ${user.email} · ${user.organization} · ${t(`role.${user.role}`)}`,
          ),
        ),
      );
    }
  } catch (failure) {
    error.textContent = `${t("signin.failed")} (${failure.message})`;
  }
  document.body.dataset.ready = "signed-out";
}

function sessionEnded() {
  forgetToken();
  state.token = null;
  state.shell = null;
  showSignIn();
}

async function start() {
  setLanguage(state.lang);
  state.token = takeToken();
  if (!state.token) return showSignIn();
  const gql = graphqlClient(() => state.token, sessionEnded);
  let answer;
  try {
    answer = await gql("BillingShell");
  } catch (error) {
    if (error instanceof SessionEnded) return;
    throw error;
  }
  if (!answer.data?.organization) {
    layout(h("p", { class: "error", role: "alert", text: answer.errors[0]?.message || shellT()("noorg") }));
    return;
  }
  state.shell = answer.data;
  layout(null);
  if (!state.sections.length) state.sections = await loadSections();
  await renderSections();
}

start();
