// Changing the plan (CHG-1, CHG-2): every choice opens a confirmation with the preview (lines,
// credit for unused time, due now, recurring amount, effective date, features lost, blockers);
// confirming sends the previewed amount back. A payment that needs 3-D Secure is completed in
// the page (CHG-5). Seats and the contact limit ("Manage", the ladder as a slider), add-ons,
// bundles, and monthly <-> annual with the saving. Billing roles only (ACC-2).
import { manageForm } from "../change_manage.js";
import { openChange } from "../change_preview.js";

export const id = "change";

export const messages = {
  en: {
    title: "Change plan",
    intro: "Choose a plan to see exactly what changes and what you pay before confirming.",
    current: "Current plan",
    choose: "Choose {plan}",
    chooseLabel: "Choose {plan} for {product}",
    chooseBundleLabel: "Choose {plan} in the {bundle} bundle",
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
    discount: "Discount",
    discountBilled: "Less the discount it was billed with",
    taxOn: "{rate} on {amount}",
    sellerTaxId: "Seller's tax id: {id}",
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
    chooseBundleLabel: "Scegli {plan} nel pacchetto {bundle}",
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
    discount: "Sconto",
    discountBilled: "Meno lo sconto con cui è stato fatturato",
    taxOn: "{rate} su {amount}",
    sellerTaxId: "Partita IVA del venditore: {id}",
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
  // The status decides between changePlan and subscribe (from a trial, SUB-2) when confirming.
  ctx = { ...ctx, subscriptionStatus: subscription.status };
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
      planGrid(ctx, item, product, bundle.plans, interval, bundle),
    );
  }
  const manage = manageForm(ctx, item, product, interval);
  if (manage) block.append(manage);
  return block;
}

// `bundle`: the bundle these plans belong to (CAT-5), or null for the product's own plans.
function planGrid(ctx, item, product, plans, interval, bundle) {
  const { h, t } = ctx;
  return h(
    "div",
    { class: "plans" },
    plans.map((plan) => {
      const current = plan.code === item.plan.code && (item.plan.bundle ?? null) === (bundle?.code ?? null);
      const offer = bundle ? `${bundle.name} ${plan.name}` : `${product.name} ${plan.name}`;
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
              "aria-label": bundle
                ? t("chooseBundleLabel", { plan: plan.name, bundle: bundle.name })
                : t("chooseLabel", { plan: plan.name, product: product.name }),
              text: t("choose", { plan: plan.name }),
              onclick: () =>
                openChange(ctx, { product: product.code, plan: plan.code, bundle: bundle?.code ?? null }, { product: offer, interval }),
            }),
      );
    }),
  );
}
