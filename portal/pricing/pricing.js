// The public pricing page (GET /pricing): the catalog read anonymously with the trusted document
// PricingPage (sent by its hash only, so the answer is cacheable), drawn for the browser's
// language (English or Italian, with a switch) and formatted for its locale. No sign-in.
import { formatters } from "../shared/format.js";
import { documents } from "../shared/documents.js";
import { initialLanguage, LANGUAGES, rememberLanguage, translator } from "../shared/i18n.js";
import { messages } from "./messages.js";

const PER = { MONTHLY: "perMonth", ANNUAL: "perYear", QUARTERLY: "perQuarter", SEMIANNUAL: "perHalfYear" };
const LANGUAGE_NAMES = { en: "English", it: "Italiano" };

const state = { language: initialLanguage(), interval: "MONTHLY", catalog: null };
let t = translator(state.language, messages);
let format = formatters(state.language);

function setLanguage(language) {
  state.language = language;
  t = translator(language, messages);
  format = formatters(language);
}

function money(amount) {
  return format.money(amount);
}

function number(n) {
  return format.number(n);
}

function metricName(code) {
  return messages[state.language].metrics[code] ?? code;
}

function featureName(code) {
  return messages[state.language].featureNames[code] ?? code.replaceAll("_", " ");
}

function productName(code) {
  return state.catalog?.products.find((p) => p.code === code)?.name ?? code;
}

/** The newest price of each interval. */
function priceByInterval(prices) {
  const latest = new Map();
  for (const price of prices) {
    const seen = latest.get(price.interval);
    if (!seen || price.version > seen.version) latest.set(price.interval, price);
  }
  return latest;
}

/** What a year costs paid monthly minus the annual price, in minor units, with its percent. */
function annualSaving(prices) {
  const monthly = prices.get("MONTHLY");
  const annual = prices.get("ANNUAL");
  if (!monthly || !annual) return null;
  const yearOfMonths = monthly.amount.amount * 12;
  const saved = yearOfMonths - annual.amount.amount;
  if (saved <= 0) return null;
  return {
    amount: { amount: saved, currency: annual.amount.currency },
    percent: Math.round((saved * 100) / yearOfMonths),
  };
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function priceBlock(prices) {
  const wanted = prices.get(state.interval) || prices.get("MONTHLY") || [...prices.values()][0];
  if (!wanted) return null;
  const block = el(
    "p",
    { class: "price" },
    el("span", { class: "amount", text: money(wanted.amount) }),
    " ",
    el("span", { class: "per", text: t(PER[wanted.interval] || "perMonth") }),
  );
  const saving = annualSaving(prices);
  const notes = [];
  if (saving && wanted.interval === "ANNUAL") {
    notes.push(el("p", { class: "saving", text: t("save", { amount: money(saving.amount), percent: saving.percent }) }));
  } else if (saving) {
    const annual = prices.get("ANNUAL");
    notes.push(el("p", { class: "saving", text: t("orAnnual", { amount: money(annual.amount), percent: saving.percent }) }));
  } else if (state.interval === "ANNUAL" && wanted.interval !== "ANNUAL") {
    notes.push(el("p", { class: "note", text: t("monthlyOnly") }));
  }
  const others = [...prices.values()].filter((p) => p !== wanted && p.interval !== "ANNUAL" && p.interval !== "MONTHLY");
  if (others.length) {
    notes.push(
      el(
        "details",
        {},
        el("summary", { text: t("otherPeriods") }),
        el("ul", {}, others.map((p) => el("li", { text: `${money(p.amount)} ${t(PER[p.interval] || p.interval)}` }))),
      ),
    );
  }
  return [block, ...notes];
}

function planCard(plan, product, bundle) {
  const prices = priceByInterval(plan.prices);
  const limits = plan.limits.map((limit) => el("li", { text: `${number(limit.value)} ${metricName(limit.metric)}` }));
  const seats = [];
  if (plan.seatsIncluded !== null) {
    seats.push(el("li", { text: plan.seatsIncluded === 1 ? t("seatIncluded") : t("seatsIncluded", { count: number(plan.seatsIncluded) }) }));
  }
  if (plan.maxSeats !== null && plan.maxSeats !== plan.seatsIncluded) {
    seats.push(el("li", { text: t("maxSeats", { count: number(plan.maxSeats) }) }));
  }
  const headingId = `plan-${product.code}-${bundle ? `${bundle.code}-` : ""}${plan.code}`;
  return el(
    "article",
    { class: "plan", "aria-labelledby": headingId },
    el("h3", { id: headingId, text: bundle ? `${plan.name} · ${bundle.name}` : plan.name }),
    bundle ? el("p", { class: "badge", text: t("bundle") }) : null,
    priceBlock(prices),
    limits.length || seats.length
      ? [el("h4", { text: t("limits") }), el("ul", { class: "limits" }, limits, seats)]
      : null,
    el("h4", { text: t("features") }),
    plan.features.length
      ? el("ul", { class: "features" }, plan.features.map((f) => el("li", { text: featureName(f) })))
      : el("p", { class: "note", text: t("noFeatures") }),
  );
}

function pricesCell(prices) {
  const latest = priceByInterval(prices);
  const shown = latest.get(state.interval) || latest.get("MONTHLY");
  if (!shown) return "";
  return shown.amount.amount === 0 ? t("included") : `${money(shown.amount)} ${t(PER[shown.interval])}`;
}

function table(caption, headings, rows) {
  return el(
    "table",
    {},
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col", text: h })))),
    el(
      "tbody",
      {},
      rows.map(([first, ...rest]) => el("tr", {}, el("th", { scope: "row", text: first }), rest.map((c) => el("td", { text: c })))),
    ),
  );
}

function productSection(product) {
  const plans = [...product.plans].sort((a, b) => a.rank - b.rank);
  const byRank = new Map(plans.map((p) => [p.rank, p.name]));
  const parts = [el("h2", { id: `product-${product.code}-title`, text: product.name })];
  parts.push(el("div", { class: "plans" }, plans.map((plan) => planCard(plan, product, null))));
  const seat = priceByInterval(product.seatPrices);
  const seatPrice = seat.get(state.interval) || seat.get("MONTHLY");
  if (seatPrice) {
    parts.push(el("p", { class: "note", text: t("extraSeat", { amount: money(seatPrice.amount), per: t(PER[seatPrice.interval]) }) }));
  }
  const onDemand = product.policy.onDemand;
  if (onDemand) {
    parts.push(
      el("p", {
        class: "note",
        text: t("onDemand", { amount: money(onDemand.blockPrice), size: number(onDemand.blockSize), metric: metricName(onDemand.metric) }),
      }),
    );
  }
  for (const bundle of product.bundles) {
    parts.push(
      el("h3", { class: "bundle-title", text: `${t("bundle")}: ${bundle.name}` }),
      el("p", { class: "note", text: t("bundleIncludes", { products: bundle.includes.map(productName).join(" + ") }) }),
      el("div", { class: "plans" }, [...bundle.plans].sort((a, b) => a.rank - b.rank).map((plan) => planCard(plan, product, bundle))),
    );
  }
  if (product.addOns.length) {
    const rows = product.addOns.map((addOn) => [
      addOn.name,
      pricesCell(addOn.prices),
      addOn.minPlanRank > 1 && byRank.has(addOn.minPlanRank) ? byRank.get(addOn.minPlanRank) : t("allPlans"),
    ]);
    parts.push(table(`${t("addOns")} · ${product.name}`, [t("addOn"), t("price"), t("availableFrom")], rows));
  }
  if (product.contactLimitLadder.length) {
    const rows = product.contactLimitLadder.map((step) => [number(step.contactLimit), pricesCell(step.prices)]);
    parts.push(table(`${t("ladder")} · ${product.name}`, [t("contacts"), t("extraPrice")], rows));
  }
  return el("section", { id: `product-${product.code}`, "aria-labelledby": `product-${product.code}-title` }, parts);
}

function controls() {
  const select = el(
    "select",
    { id: "language" },
    LANGUAGES.map((code) =>
      el("option", { value: code, selected: code === state.language, lang: code, text: LANGUAGE_NAMES[code] }),
    ),
  );
  select.addEventListener("change", () => {
    setLanguage(select.value);
    rememberLanguage(state.language);
    draw();
    document.getElementById("language").focus();
  });
  const radios = ["MONTHLY", "ANNUAL"].map((interval) => {
    const input = el("input", { type: "radio", name: "interval", id: `interval-${interval}`, value: interval, checked: state.interval === interval });
    input.addEventListener("change", () => {
      state.interval = interval;
      draw();
      document.getElementById(`interval-${interval}`).focus();
    });
    return el("span", { class: "choice" }, input, el("label", { for: `interval-${interval}`, text: t(interval === "MONTHLY" ? "monthly" : "annual") }));
  });
  return el(
    "div",
    { class: "controls" },
    el("fieldset", { class: "interval" }, el("legend", { text: t("period") }), radios),
    el("p", { class: "language" }, el("label", { for: "language", text: t("language") }), " ", select),
  );
}

function draw() {
  document.documentElement.lang = state.language;
  document.title = t("title");
  const main = document.getElementById("main");
  const products = state.catalog ? state.catalog.products : [];
  main.replaceChildren(
    el("h1", { text: t("title") }),
    el("p", { class: "intro", text: t("intro") }),
    controls(),
    el(
      "nav",
      { "aria-label": t("products") },
      el("ul", {}, products.map((p) => el("li", {}, el("a", { href: `#product-${p.code}`, text: p.name })))),
    ),
    ...products.map(productSection),
  );
}

function showFailure() {
  const main = document.getElementById("main");
  const retry = el("button", { type: "button", text: t("retry") });
  retry.addEventListener("click", load);
  main.replaceChildren(el("h1", { text: t("title") }), el("p", { role: "alert", text: t("failed") }), retry);
  main.setAttribute("aria-busy", "false");
}

async function load() {
  const main = document.getElementById("main");
  main.setAttribute("aria-busy", "true");
  main.replaceChildren(el("h1", { text: t("title") }), el("p", { text: t("loading") }));
  const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: documents.PricingPage } });
  // CUR-1: /pricing?currency=EUR shows the prices in that currency (the catalog's default without).
  const currency = new URLSearchParams(window.location.search).get("currency");
  const variables = currency ? `&variables=${encodeURIComponent(JSON.stringify({ currency }))}` : "";
  try {
    const response = await fetch(`/graphql?extensions=${encodeURIComponent(extensions)}${variables}`, {
      headers: { accept: "application/json" },
    });
    const body = await response.json();
    if (!response.ok || body.errors || !body.data) throw new Error("catalog");
    state.catalog = body.data.catalog;
  } catch {
    showFailure();
    return;
  }
  draw();
  main.setAttribute("aria-busy", "false");
  document.body.dataset.ready = "true"; // tests and screenshots wait for this
}

load();
