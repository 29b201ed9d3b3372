// Changing the plan (CHG-1, CHG-2): every choice opens a confirmation with the preview (lines,
// credit for unused time, due now, recurring amount, effective date, features lost, blockers);
// confirming sends the previewed amount back. A payment that needs 3-D Secure is completed in
// the page (CHG-5). Seats and the contact limit ("Manage", the ladder as a slider), add-ons,
// bundles, and monthly <-> annual with the saving. Billing roles only (ACC-2).
import { uid } from "../../shared/dom.js";

export const id = "change";

export const messages = {
  en: {
    title: "Change plan",
    intro: "Choose a plan to see exactly what changes and what you pay before confirming.",
    current: "Current plan",
    choose: "Choose {plan}",
    chooseLabel: "Choose {plan} for {product}",
    per: "{amount} {per}",
    includes: "Includes {products}",
    bundle: "Bundle: {name}",
    manage: "Manage {product}",
    contactLimit: "Contact limit",
    contacts: "{count} contacts",
    stepPrice: "{count} contacts (+{amount} {per})",
    seats: "Seats",
    seatsHint: "{included} included; each extra seat {amount} {per}.",
    seatsMax: "At most {max}.",
    addOns: "Add-ons",
    addOnLabel: "{name} (+{amount} {per})",
    addOnNotOffered: "{name} (from a higher plan)",
    previewManage: "Preview the change",
    interval: "Billing interval",
    intervalNow: "You are billed {interval}.",
    switchTo: "Switch to {interval} billing",
    saving: "Save {amount} a year at list prices.",
    noSaving: "Annual billing saves {amount} a year at list prices.",
    annualNotOffered: "Annual billing is not offered for {products}, so this subscription is billed monthly.",
    "kind.NEW": "New subscription",
    "kind.UPGRADE": "Upgrade",
    "kind.DOWNGRADE": "Downgrade",
    "kind.NO_CHANGE": "No change",
    "timing.IMMEDIATE": "Takes effect now.",
    "timing.END_OF_PERIOD": "Takes effect on {date}, at the end of the current period; until then you keep the current plan.",
    "timing.BY_REQUEST": "This downgrade is made by our staff on request: confirming sends them the request; nothing changes until they act.",
    previewTitle: "{kind}: {product}",
    line: "Line",
    amount: "Amount",
    total: "Total",
    creditApplied: "Paid from your credit balance",
    dueNow: "Due now",
    recurring: "Then {amount} {per}",
    nextBilling: "Next billing date: {date}",
    effectiveLabel: "Takes effect",
    featuresLost: "Features you lose",
    blockers: "Resolve these first",
    confirmPay: "Confirm and pay {amount}",
    confirmSchedule: "Schedule the downgrade",
    confirmRequest: "Send the request",
    confirm: "Confirm the change",
    close: "Close",
    applied: "{product}: the change is applied.",
    appliedInvoice: "{product}: the change is applied; invoice {number} is {status}.",
    "invoice.PAID": "paid",
    "invoice.OPEN": "open",
    scheduled: "{product}: the downgrade takes effect on {date}.",
    requested: "{product}: your request is sent to our staff.",
    authFailed: "{product}: the authentication failed, so nothing changed: you keep your current plan.",
    authDone: "{product}: the payment is authenticated and the change applied.",
    noSubscription: "There is no subscription to change.",
    unavailable: "Plans cannot be changed while the subscription is {status}.",
    "status.CANCELLED": "cancelled",
  },
  it: {
    title: "Cambia piano",
    intro: "Scegli un piano per vedere esattamente cosa cambia e quanto paghi prima di confermare.",
    current: "Piano attuale",
    choose: "Scegli {plan}",
    chooseLabel: "Scegli {plan} per {product}",
    per: "{amount} {per}",
    includes: "Comprende {products}",
    bundle: "Pacchetto: {name}",
    manage: "Gestisci {product}",
    contactLimit: "Limite di contatti",
    contacts: "{count} contatti",
    stepPrice: "{count} contatti (+{amount} {per})",
    seats: "Postazioni",
    seatsHint: "{included} incluse; ogni postazione in più {amount} {per}.",
    seatsMax: "Al massimo {max}.",
    addOns: "Componenti aggiuntivi",
    addOnLabel: "{name} (+{amount} {per})",
    addOnNotOffered: "{name} (da un piano superiore)",
    previewManage: "Anteprima della modifica",
    interval: "Periodicità di fatturazione",
    intervalNow: "La fatturazione è {interval}.",
    switchTo: "Passa alla fatturazione {interval}",
    saving: "Risparmi {amount} all'anno ai prezzi di listino.",
    noSaving: "La fatturazione annuale fa risparmiare {amount} all'anno ai prezzi di listino.",
    annualNotOffered: "La fatturazione annuale non è offerta per {products}, quindi questo abbonamento è fatturato mensilmente.",
    "kind.NEW": "Nuovo abbonamento",
    "kind.UPGRADE": "Upgrade",
    "kind.DOWNGRADE": "Downgrade",
    "kind.NO_CHANGE": "Nessuna modifica",
    "timing.IMMEDIATE": "Entra in vigore subito.",
    "timing.END_OF_PERIOD": "Entra in vigore il {date}, alla fine del periodo attuale; fino ad allora mantieni il piano attuale.",
    "timing.BY_REQUEST": "Questo downgrade viene fatto dal nostro staff su richiesta: confermando invii la richiesta; nulla cambia finché non interviene.",
    previewTitle: "{kind}: {product}",
    line: "Voce",
    amount: "Importo",
    total: "Totale",
    creditApplied: "Pagato con il tuo credito",
    dueNow: "Da pagare ora",
    recurring: "Poi {amount} {per}",
    nextBilling: "Prossima fatturazione: {date}",
    effectiveLabel: "In vigore dal",
    featuresLost: "Funzionalità che perdi",
    blockers: "Da risolvere prima",
    confirmPay: "Conferma e paga {amount}",
    confirmSchedule: "Programma il downgrade",
    confirmRequest: "Invia la richiesta",
    confirm: "Conferma la modifica",
    close: "Chiudi",
    applied: "{product}: la modifica è applicata.",
    appliedInvoice: "{product}: la modifica è applicata; la fattura {number} è {status}.",
    "invoice.PAID": "pagata",
    "invoice.OPEN": "aperta",
    scheduled: "{product}: il downgrade entra in vigore il {date}.",
    requested: "{product}: la richiesta è stata inviata al nostro staff.",
    authFailed: "{product}: l'autenticazione non è riuscita, quindi nulla è cambiato: mantieni il piano attuale.",
    authDone: "{product}: il pagamento è autenticato e la modifica applicata.",
    noSubscription: "Non c'è un abbonamento da modificare.",
    unavailable: "Non puoi cambiare piano mentre l'abbonamento è {status}.",
    "status.CANCELLED": "cancellato",
  },
};

export function visible(ctx) {
  return ctx.canManageBilling;
}

function priceFor(prices, interval) {
  return prices.find((price) => price.interval === interval)?.amount ?? null;
}

function perText(ctx, interval) {
  return ctx.t(`per.${interval}`);
}

export async function render(root, ctx) {
  const { h, t } = ctx;
  const { data, errors } = await ctx.gql("BillingChangeOptions");
  const subscription = data?.organization?.subscription;
  if (!subscription) {
    root.append(h("p", { text: errors[0]?.message || t("noSubscription") }));
    return;
  }
  if (subscription.status === "CANCELLED") {
    root.append(h("p", { text: t("unavailable", { status: t("status.CANCELLED") }) }));
    return;
  }
  const products = new Map(data.catalog.products.map((product) => [product.code, product]));
  root.append(h("p", { class: "hint", text: t("intro") }));
  root.append(intervalSwitch(ctx, subscription, products));
  for (const item of subscription.items) {
    const product = products.get(item.product.code);
    if (product) root.append(productBlock(ctx, subscription, item, product));
  }
}

// Monthly <-> annual for the whole subscription, with the saving at list prices; the preview
// then shows the exact amounts.
function intervalSwitch(ctx, subscription, products) {
  const { h, t } = ctx;
  const current = subscription.billingInterval;
  const lines = subscription.items.map((item) => {
    const product = products.get(item.product.code);
    const plans = [...(product?.plans ?? []), ...(product?.bundles ?? []).flatMap((b) => b.plans)];
    return { item, product, plan: plans.find((plan) => plan.code === item.plan.code) };
  });
  const offered = ["MONTHLY", "ANNUAL"].filter(
    (interval) => interval !== current && lines.every((line) => line.product?.intervals.includes(interval)),
  );
  const block = h("div", { class: "interval" }, h("h3", { text: t("interval") }));
  block.append(h("p", { text: t("intervalNow", { interval: t(`interval.${current}`).toLowerCase() }) }));
  const saving = annualSaving(lines);
  const monthlyOnly = lines.filter((line) => line.product && !line.product.intervals.includes("ANNUAL"));
  if (current === "MONTHLY" && monthlyOnly.length) {
    block.append(h("p", { class: "hint", text: t("annualNotOffered", { products: monthlyOnly.map((l) => l.product.name).join(", ") }) }));
  }
  for (const interval of offered) {
    const button = h("button", {
      type: "button",
      "data-interval": interval,
      text: t("switchTo", { interval: t(`interval.${interval}`).toLowerCase() }),
      onclick: () =>
        openChange(ctx, { product: subscription.items[0].product.code, billingInterval: interval }, {
          product: t(`interval.${interval}`),
          interval,
        }),
    });
    block.append(h("p", { class: "row" }, button, saving && saving.amount > 0
      ? h("span", { class: "hint", text: t(interval === "ANNUAL" ? "saving" : "noSaving", { amount: ctx.money(saving) }) })
      : null));
  }
  return block;
}

// Twelve monthly list prices less the annual list price, over the subscription's plans.
function annualSaving(lines) {
  let amount = 0;
  let currency = null;
  for (const { plan } of lines) {
    const monthly = plan && priceFor(plan.prices, "MONTHLY");
    const annual = plan && priceFor(plan.prices, "ANNUAL");
    if (!monthly || !annual) return null;
    amount += monthly.amount * 12 - annual.amount;
    currency = monthly.currency;
  }
  return currency ? { amount, currency } : null;
}

function productBlock(ctx, subscription, item, product) {
  const { h, t } = ctx;
  const interval = subscription.billingInterval;
  const block = h("div", { class: "product", "data-product": product.code }, h("h3", { text: product.name }));
  block.append(planGrid(ctx, item, product, product.plans, interval, null));
  for (const bundle of product.bundles) {
    block.append(
      h("h4", { text: t("bundle", { name: bundle.name }) }),
      h("p", { class: "hint", text: t("includes", { products: bundle.includes.join(", ") }) }),
      planGrid(ctx, item, product, bundle.plans, interval, bundle.code),
    );
  }
  const manage = manageForm(ctx, item, product, interval);
  if (manage) block.append(manage);
  return block;
}

function planGrid(ctx, item, product, plans, interval, bundle) {
  const { h, t } = ctx;
  return h(
    "div",
    { class: "plans" },
    plans.map((plan) => {
      const current = plan.code === item.plan.code && (item.plan.bundle ?? null) === bundle;
      const price = priceFor(plan.prices, interval);
      return h(
        "div",
        { class: `plan-card${current ? " current" : ""}`, "data-plan": plan.code },
        h("h4", { text: plan.name }),
        price ? h("p", { text: t("per", { amount: ctx.money(price), per: perText(ctx, interval) }) }) : null,
        plan.limits.length
          ? h("ul", {}, plan.limits.map((limit) => h("li", { text: `${ctx.number(limit.value)} ${limit.metric}` })))
          : null,
        h("ul", {}, plan.features.map((feature) => h("li", { text: feature }))),
        current
          ? h("p", {}, h("span", { class: "badge status-ok", text: t("current") }))
          : h("button", {
              type: "button",
              "aria-label": t("chooseLabel", { plan: plan.name, product: product.name }),
              text: t("choose", { plan: plan.name }),
              onclick: () =>
                openChange(ctx, { product: product.code, plan: plan.code, bundle }, { product: `${product.name} ${plan.name}`, interval }),
            }),
      );
    }),
  );
}

// Seats, the contact-limit ladder (a slider over its steps) and add-ons of one product line.
function manageForm(ctx, item, product, interval) {
  const { h, t } = ctx;
  const ladder = product.contactLimitLadder;
  const seatPrice = priceFor(product.seatPrices, interval);
  const plan = [...product.plans, ...product.bundles.flatMap((b) => b.plans)].find((p) => p.code === item.plan.code);
  const addOns = product.addOns;
  if (!ladder.length && !seatPrice && !addOns.length) return null;
  const fields = [];
  const wanted = {};
  if (ladder.length && item.contactLimit !== null) {
    const sliderId = uid("ladder");
    const start = Math.max(0, ladder.findIndex((step) => step.contactLimit === item.contactLimit));
    const describe = (index) => {
      const step = ladder[index];
      const price = priceFor(step.prices, interval);
      return price
        ? t("stepPrice", { count: ctx.number(step.contactLimit), amount: ctx.money(price), per: perText(ctx, interval) })
        : t("contacts", { count: ctx.number(step.contactLimit) });
    };
    const output = h("output", { for: sliderId, text: describe(start) });
    const slider = h("input", {
      type: "range",
      id: sliderId,
      name: "contactLimit",
      min: "0",
      max: String(ladder.length - 1),
      step: "1",
      value: String(start),
      "aria-valuetext": t("contacts", { count: ctx.number(ladder[start].contactLimit) }),
      oninput: (event) => {
        const index = Number(event.target.value);
        output.textContent = describe(index);
        event.target.setAttribute("aria-valuetext", t("contacts", { count: ctx.number(ladder[index].contactLimit) }));
      },
    });
    wanted.contactLimit = () => ladder[Number(slider.value)].contactLimit;
    fields.push(h("div", { class: "field" }, h("label", { for: sliderId, text: t("contactLimit") }), slider, output));
  }
  if (seatPrice && item.seats !== null) {
    const seatsId = uid("seats");
    const hints = [t("seatsHint", { included: ctx.number(plan?.seatsIncluded ?? 0), amount: ctx.money(seatPrice), per: perText(ctx, interval) })];
    if (plan?.maxSeats) hints.push(t("seatsMax", { max: ctx.number(plan.maxSeats) }));
    const hintId = uid("seats-hint");
    const input = h("input", {
      type: "number",
      id: seatsId,
      name: "seats",
      min: "1",
      max: plan?.maxSeats ? String(plan.maxSeats) : null,
      value: String(item.seats),
      "aria-describedby": hintId,
    });
    wanted.seats = () => Number(input.value);
    fields.push(h("div", { class: "field" }, h("label", { for: seatsId, text: t("seats") }), input, h("p", { class: "hint", id: hintId, text: hints.join(" ") })));
  }
  if (addOns.length) {
    const held = new Set(item.addOns.map((a) => a.code));
    const boxes = addOns.map((addOn) => {
      const boxId = uid("addon");
      const offered = (plan?.rank ?? 0) >= addOn.minPlanRank;
      const price = priceFor(addOn.prices, interval);
      const box = h("input", { type: "checkbox", id: boxId, value: addOn.code, checked: held.has(addOn.code), disabled: !offered && !held.has(addOn.code) });
      const label = offered && price
        ? t("addOnLabel", { name: addOn.name, amount: ctx.money(price), per: perText(ctx, interval) })
        : t("addOnNotOffered", { name: addOn.name });
      return { box, element: h("div", { class: "field inline" }, box, h("label", { for: boxId, text: label })) };
    });
    wanted.addOns = () => boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    fields.push(h("fieldset", {}, h("legend", { text: t("addOns") }), boxes.map((b) => b.element)));
  }
  const form = h(
    "form",
    {
      class: "manage",
      "aria-label": t("manage", { product: product.name }),
      onsubmit: (event) => {
        event.preventDefault();
        const input = { product: product.code };
        for (const [key, read] of Object.entries(wanted)) input[key] = read();
        openChange(ctx, input, { product: product.name, interval });
      },
    },
    h("h4", { text: t("manage", { product: product.name }) }),
    fields,
    h("button", { type: "submit", text: t("previewManage") }),
  );
  return form;
}

// The preview in a dialog; confirming applies it at the previewed amount (CHG-2).
// `interval`: the subscription's billing interval after the change.
export async function openChange(ctx, input, { product, interval }) {
  const { h, t } = ctx;
  const { data, errors } = await ctx.gql("PreviewPlanChange", { input });
  const preview = data?.previewPlanChange;
  if (!preview) {
    await ctx.dialog({
      title: t("title"),
      body: h("p", { role: "alert", text: errors[0]?.message || t("error.generic") }),
      actions: [{ id: "close", label: t("close"), primary: true }],
    });
    return;
  }
  const trial = ["TRIALING", "TRIAL_ENDED"].includes(await currentStatus(ctx));
  let outcome = null;
  const due = preview.amountDueNow;
  const label =
    preview.timing === "BY_REQUEST"
      ? t("confirmRequest")
      : preview.timing === "END_OF_PERIOD"
        ? t("confirmSchedule")
        : due.amount > 0
          ? t("confirmPay", { amount: ctx.money(due) })
          : t("confirm");
  const actions = [];
  if (!preview.blockers.length && preview.kind !== "NO_CHANGE") {
    actions.push({
      id: "confirm",
      label,
      primary: true,
      onSelect: async ({ setError }) => {
        const operation = trial ? "Subscribe" : "ChangePlan";
        const answer = await ctx.gql(operation, { input, confirmAmountDue: due.amount });
        const result = answer.data?.[trial ? "subscribe" : "changePlan"];
        if (!result) {
          setError(answer.errors[0]?.message || t("error.generic"));
          return false;
        }
        if (result.__typename === "UserError") {
          setError(result.message);
          return false;
        }
        outcome = result;
        return true;
      },
    });
  }
  actions.push({ id: "cancel", label: t("cancel") });
  await ctx.dialog({ title: t("previewTitle", { kind: t(`kind.${preview.kind}`), product }), body: previewBody(ctx, preview, interval), actions });
  if (outcome) await finish(ctx, outcome, product, preview);
}

async function currentStatus(ctx) {
  const { data } = await ctx.gql("BillingPlan", { amounts: false });
  return data?.organization?.subscription?.status ?? null;
}

function previewBody(ctx, preview, interval) {
  const { h, t } = ctx;
  const body = [
    h("p", { "data-testid": "timing", text: t(`timing.${preview.timing}`, { date: ctx.date(preview.effectiveAt) }) }),
  ];
  if (preview.lines.length) {
    body.push(
      h(
        "table",
        { "data-testid": "preview-lines" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("line") }), h("th", { scope: "col", class: "amount", text: t("amount") }))),
        h(
          "tbody",
          {},
          preview.lines.map((line) => h("tr", {}, h("td", { text: line.description }), h("td", { class: "amount", text: ctx.money(line.amount) }))),
          h("tr", {}, h("th", { scope: "row", text: t("total") }), h("td", { class: "amount", text: ctx.money(preview.total) })),
          preview.creditApplied.amount
            ? h("tr", {}, h("th", { scope: "row", text: t("creditApplied") }), h("td", { class: "amount", text: ctx.money({ ...preview.creditApplied, amount: -preview.creditApplied.amount }) }))
            : null,
        ),
      ),
    );
  }
  const facts = [
    [t("dueNow"), ctx.money(preview.amountDueNow)],
    [t("effectiveLabel"), ctx.date(preview.effectiveAt)],
  ];
  body.push(
    h("dl", { class: "facts", "data-testid": "preview-facts" }, facts.map(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })])),
    h("p", {
      "data-testid": "recurring",
      text: t("recurring", { amount: ctx.money(preview.recurringAmount), per: perText(ctx, interval) }),
    }),
  );
  if (preview.nextBillingDate) body.push(h("p", { class: "hint", text: t("nextBilling", { date: ctx.date(preview.nextBillingDate) }) }));
  if (preview.featuresLost.length) {
    body.push(h("h3", { text: t("featuresLost") }), h("ul", { "data-testid": "features-lost" }, preview.featuresLost.map((f) => h("li", { text: f }))));
  }
  for (const note of preview.notes) body.push(h("p", { class: "hint", text: note }));
  if (preview.blockers.length) {
    body.push(
      h("h3", { text: t("blockers") }),
      h("ul", { class: "error", "data-testid": "blockers" }, preview.blockers.map((b) => h("li", { "data-code": b.code, text: b.message }))),
    );
  }
  return body;
}

async function finish(ctx, outcome, product, preview) {
  const { t } = ctx;
  switch (outcome.__typename) {
    case "PaymentActionRequired": {
      const ok = await ctx.authenticatePayment({ invoiceId: outcome.pendingInvoice.id, clientSecret: outcome.clientSecret });
      ctx.notify(t(ok ? "authDone" : "authFailed", { product }), ok ? "ok" : "bad");
      break;
    }
    case "PlanChangeApplied":
      ctx.notify(
        outcome.invoice
          ? t("appliedInvoice", { product, number: outcome.invoice.number, status: t(`invoice.${outcome.invoice.status}`) })
          : t("applied", { product }),
        "ok",
      );
      break;
    case "PlanChangeScheduled":
      ctx.notify(t("scheduled", { product, date: ctx.date(outcome.effectiveAt || preview.effectiveAt) }), "info");
      break;
    case "AccountChangeRequested":
      ctx.notify(t("requested", { product }), "info");
      break;
    default:
      break;
  }
  await ctx.refresh();
}
