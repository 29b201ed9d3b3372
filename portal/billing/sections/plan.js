// The current plan and status (SUB-1: what the status means and what to do), the next billing
// date and, for billing roles only (ACC-3), the recurring amount and the upcoming invoice.
import { uid } from "../../shared/dom.js";
import { taxNotes, taxRows } from "../parts/tax_rows.js";

export const id = "plan";

export const messages = {
  en: {
    title: "Current plan",
    status: "Status",
    "status.TRIALING": "Trial",
    "status.TRIAL_ENDED": "Trial ended",
    "status.ACTIVE": "Active",
    "status.DOWNGRADING": "Downgrade scheduled",
    "status.CANCELLING": "Cancelling",
    "status.PENDING_PAYMENT": "Payment overdue",
    "status.FROZEN": "Frozen",
    "status.CANCELLED": "Cancelled",
    "meaning.TRIALING": "Your trial is free until {date}. Choose a plan before then to keep using it.",
    "meaning.TRIAL_ENDED": "Your trial has ended. Choose a plan to continue.",
    "meaning.ACTIVE": "Everything is in order. The subscription renews on {date}.",
    "meaning.DOWNGRADING": "A downgrade takes effect on {date}; until then you keep your current plan.",
    "meaning.CANCELLING": "The subscription ends on {date}. You keep your plan until then and can reactivate it before that date.",
    "meaning.PENDING_PAYMENT": "An invoice is overdue. Pay it within 5 days of its due date (the grace period), or the account is frozen.",
    "meaning.FROZEN": "The account is frozen because an invoice is still unpaid after the grace period. Pay now to restore it.",
    "meaning.CANCELLED": "The subscription is cancelled.",
    "todo.pay": "Pay now",
    "todo.payMember": "Ask your organization's owner or billing admin to pay the overdue invoice.",
    "todo.choose": "Choose a plan",
    "todo.reactivate": "Reactivate",
    interval: "Billing interval",
    period: "Current period",
    periodRange: "{start} – {end}",
    nextBilling: "Next billing date",
    noNextBilling: "None: the subscription does not renew",
    recurring: "Recurring amount",
    product: "Product",
    planName: "Plan",
    seats: "Seats",
    contactLimit: "Contact limit",
    addOns: "Add-ons",
    limits: "Limits and usage",
    features: "Features",
    scheduled: "From {date}: {plan}",
    scheduledInterval: "From {date}: billed {interval}",
    "limit.line": "{value} {metric}",
    "limit.used": "{used} of {value} {metric} used",
    upcoming: "Upcoming invoice",
    taxOn: "{rate} on {amount}",
    sellerTaxId: "Seller's tax id: {id}",
    upcomingIssued: "Issued and charged on {date}",
    line: "Line",
    amount: "Amount",
    total: "Total",
    creditApplied: "Paid from credit",
    amountDue: "Charged to your card",
    discount: "Discount",
    discountBilled: "Less the discount it was billed with",
    promo: "Promotion code",
    promoHint: "Codes are not case-sensitive. The discount applies from the next invoice; the current period counts as its first.",
    promoApply: "Apply code",
    promoApplied: "The code {code} is applied.",
    promoCurrent: "Discount: {description} ({name})",
    "promoLeft.one": "This period is the last it discounts.",
    "promoLeft.other": "It discounts {count} more periods, this one included.",
    promoForever: "It discounts every period.",
    promoRemove: "Remove discount",
    promoRemoved: "The discount is removed from the next invoice.",
    noSubscription: "This organization has no subscription yet.",
    noUpcoming: "No renewal invoice is coming: the subscription does not renew at the end of this period.",
    none: "None",
  },
  it: {
    title: "Piano attuale",
    status: "Stato",
    "status.TRIALING": "Prova",
    "status.TRIAL_ENDED": "Prova terminata",
    "status.ACTIVE": "Attivo",
    "status.DOWNGRADING": "Downgrade programmato",
    "status.CANCELLING": "In cancellazione",
    "status.PENDING_PAYMENT": "Pagamento scaduto",
    "status.FROZEN": "Sospeso",
    "status.CANCELLED": "Cancellato",
    "meaning.TRIALING": "La prova è gratuita fino al {date}. Scegli un piano entro quella data per continuare a usarlo.",
    "meaning.TRIAL_ENDED": "La prova è terminata. Scegli un piano per continuare.",
    "meaning.ACTIVE": "È tutto in ordine. L'abbonamento si rinnova il {date}.",
    "meaning.DOWNGRADING": "Un downgrade entra in vigore il {date}; fino ad allora mantieni il piano attuale.",
    "meaning.CANCELLING": "L'abbonamento termina il {date}. Mantieni il piano fino ad allora e puoi riattivarlo prima di quella data.",
    "meaning.PENDING_PAYMENT": "Una fattura è scaduta. Pagala entro 5 giorni dalla scadenza (il periodo di tolleranza), altrimenti l'account viene sospeso.",
    "meaning.FROZEN": "L'account è sospeso perché una fattura non è stata pagata dopo il periodo di tolleranza. Paga ora per ripristinarlo.",
    "meaning.CANCELLED": "L'abbonamento è cancellato.",
    "todo.pay": "Paga ora",
    "todo.payMember": "Chiedi al proprietario o a un amministratore della fatturazione di pagare la fattura scaduta.",
    "todo.choose": "Scegli un piano",
    "todo.reactivate": "Riattiva",
    interval: "Periodicità di fatturazione",
    period: "Periodo attuale",
    periodRange: "{start} – {end}",
    nextBilling: "Prossima fatturazione",
    noNextBilling: "Nessuna: l'abbonamento non si rinnova",
    recurring: "Importo ricorrente",
    product: "Prodotto",
    planName: "Piano",
    seats: "Postazioni",
    contactLimit: "Limite di contatti",
    addOns: "Componenti aggiuntivi",
    limits: "Limiti e utilizzo",
    features: "Funzionalità",
    scheduled: "Dal {date}: {plan}",
    scheduledInterval: "Dal {date}: fatturazione {interval}",
    "limit.line": "{value} {metric}",
    "limit.used": "{used} di {value} {metric} usati",
    upcoming: "Prossima fattura",
    taxOn: "{rate} su {amount}",
    sellerTaxId: "Partita IVA del venditore: {id}",
    upcomingIssued: "Emessa e addebitata il {date}",
    line: "Voce",
    amount: "Importo",
    total: "Totale",
    creditApplied: "Pagato con il credito",
    amountDue: "Addebitato sulla carta",
    discount: "Sconto",
    discountBilled: "Meno lo sconto con cui è stato fatturato",
    promo: "Codice promozionale",
    promoHint: "Maiuscole e minuscole sono uguali. Lo sconto vale dalla prossima fattura; il periodo attuale conta come il primo.",
    promoApply: "Applica il codice",
    promoApplied: "Il codice {code} è applicato.",
    promoCurrent: "Sconto: {description} ({name})",
    "promoLeft.one": "Questo periodo è l'ultimo scontato.",
    "promoLeft.other": "Sconta ancora {count} periodi, compreso questo.",
    promoForever: "Sconta ogni periodo.",
    promoRemove: "Rimuovi lo sconto",
    promoRemoved: "Lo sconto è rimosso dalla prossima fattura.",
    noSubscription: "Questa organizzazione non ha ancora un abbonamento.",
    noUpcoming: "Nessuna fattura di rinnovo in arrivo: l'abbonamento non si rinnova alla fine di questo periodo.",
    none: "Nessuno",
  },
};

const TONE = {
  TRIALING: "status-info",
  TRIAL_ENDED: "status-warn",
  ACTIVE: "status-ok",
  DOWNGRADING: "status-info",
  CANCELLING: "status-warn",
  PENDING_PAYMENT: "status-bad",
  FROZEN: "status-bad",
  CANCELLED: "status-bad",
};

export function visible() {
  return true;
}

// The status as a text badge (never colour alone), for this and other sections.
export function statusBadge(ctx, status) {
  return ctx.h("span", { class: `badge ${TONE[status] || ""}`, "data-status": status, text: ctx.t(`status.${status}`) });
}

export async function render(root, ctx) {
  const { h, t } = ctx;
  const { data, errors } = await ctx.gql("BillingPlan", { amounts: ctx.canManageBilling });
  const subscription = data?.organization?.subscription;
  if (!subscription) {
    root.append(h("p", { text: errors.length && !data ? errors[0].message : t("noSubscription") }));
    return;
  }
  root.append(statusBlock(ctx, subscription));
  root.append(facts(ctx, subscription));
  const usage = new Map((data.organization.entitlements?.products || []).map((p) => [p.product, p.limits]));
  root.append(itemsTable(ctx, subscription, usage));
  if (ctx.canManageBilling) {
    root.append(promotion(ctx, subscription));
    root.append(...upcoming(ctx, subscription.upcomingInvoice));
  }
}

// DSC-1: the discount in force, or a field to type a promotion code in (billing roles only).
function promotion(ctx, subscription) {
  const { h, t } = ctx;
  const discount = subscription.discount;
  const error = h("p", { class: "error", role: "alert" });
  if (discount) {
    const left =
      discount.periodsLeft === null
        ? t("promoForever")
        : t(`promoLeft.${discount.periodsLeft === 1 ? "one" : "other"}`, { count: ctx.number(discount.periodsLeft) });
    const remove = h("button", {
      type: "button",
      class: "secondary",
      text: t("promoRemove"),
      onclick: async () => {
        error.textContent = "";
        const { data, errors } = await ctx.gql("RemoveDiscount", {});
        const result = data?.removeDiscount;
        if (!result || result.__typename === "UserError") {
          error.textContent = result?.message || errors[0]?.message || t("error.generic");
          return;
        }
        ctx.notify(t("promoRemoved"), "ok");
        await ctx.refresh();
      },
    });
    return h(
      "div",
      { class: "promotion", "data-testid": "discount" },
      h("p", {}, h("strong", { text: t("promoCurrent", { description: discount.description, name: discount.name }) })),
      h("p", { class: "hint", text: left }),
      error,
      remove,
    );
  }
  const inputId = uid("promo");
  const hintId = `${inputId}-hint`;
  const input = h("input", { id: inputId, name: "promotionCode", autocomplete: "off", maxlength: "64", required: true, "aria-describedby": hintId });
  const form = h(
    "form",
    {
      class: "promotion",
      "data-testid": "promotion-form",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const code = input.value.trim();
        if (!code) return;
        const { data, errors } = await ctx.gql("ApplyPromotionCode", { code });
        const result = data?.applyPromotionCode;
        if (!result || result.__typename === "UserError") {
          error.textContent = result?.message || errors[0]?.message || t("error.generic");
          input.setAttribute("aria-invalid", "true");
          input.focus();
          return;
        }
        ctx.notify(t("promoApplied", { code: code.toUpperCase() }), "ok");
        await ctx.refresh();
      },
    },
    h("div", { class: "field" }, h("label", { for: inputId, text: t("promo") }), input, h("p", { class: "hint", id: hintId, text: t("promoHint") })),
    error,
    h("button", { type: "submit", text: t("promoApply") }),
  );
  return form;
}

function statusDate(subscription) {
  switch (subscription.status) {
    case "TRIALING":
      return subscription.trialEndsAt;
    case "CANCELLING":
      return subscription.cancelAt;
    case "DOWNGRADING":
      return subscription.items.find((i) => i.scheduledChange)?.scheduledChange.effectiveAt;
    default:
      return subscription.nextBillingDate;
  }
}

function statusBlock(ctx, subscription) {
  const { h, t } = ctx;
  const status = subscription.status;
  const todo = [];
  if (status === "PENDING_PAYMENT" || status === "FROZEN") {
    todo.push(
      ctx.canManageBilling
        ? h("a", { href: "#invoices", class: "todo", text: t("todo.pay") })
        : h("span", { text: t("todo.payMember") }),
    );
  } else if ((status === "TRIAL_ENDED" || status === "TRIALING") && ctx.canManageBilling) {
    todo.push(h("a", { href: "#change", class: "todo", text: t("todo.choose") }));
  } else if (status === "CANCELLING" && ctx.isOwner) {
    todo.push(h("a", { href: "#cancel", class: "todo", text: t("todo.reactivate") }));
  }
  return h(
    "div",
    { class: "status-block", "data-testid": "status" },
    h("p", {}, h("strong", { text: `${t("status")}: ` }), statusBadge(ctx, status)),
    h("p", {
      class: "meaning",
      text: t(`meaning.${status}`, { date: ctx.date(statusDate(subscription)) }),
    }),
    todo.length ? h("p", {}, todo) : null,
  );
}

function facts(ctx, subscription) {
  const { h, t } = ctx;
  const rows = [
    [t("interval"), t(`interval.${subscription.billingInterval}`)],
    [
      t("period"),
      t("periodRange", {
        start: ctx.date(subscription.currentPeriodStart),
        end: ctx.date(subscription.currentPeriodEnd),
      }),
    ],
    [
      t("nextBilling"),
      subscription.nextBillingDate ? ctx.date(subscription.nextBillingDate) : t("noNextBilling"),
    ],
  ];
  if (subscription.recurringAmount) {
    rows.push([
      t("recurring"),
      `${ctx.money(subscription.recurringAmount)} ${t(`per.${subscription.billingInterval}`)}`,
    ]);
  }
  return h("dl", { class: "facts" }, rows.map(([term, value]) => [h("dt", { text: term }), h("dd", { text: value })]));
}

function limitLines(ctx, item, usage) {
  const { h, t } = ctx;
  const counted = usage.get(item.product.code) || [];
  if (!item.plan.limits.length) return t("none");
  return item.plan.limits.map((limit) => {
    const used = counted.find((c) => c.metric === limit.metric);
    return h("div", {
      text: used
        ? t("limit.used", { used: ctx.number(used.used), value: ctx.number(limit.value), metric: limit.metric })
        : t("limit.line", { value: ctx.number(limit.value), metric: limit.metric }),
    });
  });
}

function itemsTable(ctx, subscription, usage) {
  const { h, t } = ctx;
  const amounts = subscription.items.some((item) => item.recurringAmount);
  const head = [t("product"), t("planName"), t("limits"), t("features")];
  if (amounts) head.push(t("recurring"));
  const rows = subscription.items.map((item) => {
    const details = [];
    if (item.seats !== null) details.push(`${t("seats")}: ${ctx.number(item.seats)}`);
    if (item.contactLimit !== null) details.push(`${t("contactLimit")}: ${ctx.number(item.contactLimit)}`);
    if (item.addOns.length) details.push(`${t("addOns")}: ${item.addOns.map((a) => a.name).join(", ")}`);
    const change = item.scheduledChange;
    const scheduled = change
      ? h("p", {
          class: "hint",
          text: change.plan
            ? t("scheduled", { date: ctx.date(change.effectiveAt), plan: change.plan.name })
            : t("scheduledInterval", {
                date: ctx.date(change.effectiveAt),
                interval: t(`interval.${change.billingInterval}`).toLowerCase(),
              }),
        })
      : null;
    // data-label: on a phone the rows stack and each cell shows its column's name.
    const cells = [
      h("th", { scope: "row", text: item.product.name }),
      h("td", { "data-product": item.product.code, "data-label": head[1] }, h("strong", { text: item.plan.name }), details.map((d) => h("div", { class: "hint", text: d })), scheduled),
      h("td", { "data-label": head[2] }, limitLines(ctx, item, usage)),
      h("td", { "data-label": head[3], text: item.plan.features.join(", ") }),
    ];
    if (amounts) cells.push(h("td", { class: "amount", "data-label": head[4], text: item.recurringAmount ? ctx.money(item.recurringAmount) : "" }));
    return h("tr", {}, cells);
  });
  return h(
    "table",
    { class: "items" },
    h("thead", {}, h("tr", {}, head.map((text, index) => h("th", { scope: "col", class: index === 4 ? "amount" : "", text })))),
    h("tbody", {}, rows),
  );
}

function upcoming(ctx, invoice) {
  const { h, t } = ctx;
  const heading = h("h3", { text: t("upcoming") });
  if (!invoice) return [heading, h("p", { text: t("noUpcoming") })];
  const row = (label, money, strong = false) =>
    h("tr", {}, h(strong ? "th" : "td", strong ? { scope: "row", text: label } : { text: label }), h("td", { class: "amount" }, strong ? h("strong", { text: ctx.money(money) }) : ctx.money(money)));
  return [
    heading,
    h("p", { class: "hint", text: t("upcomingIssued", { date: ctx.date(invoice.issuesAt) }) }),
    h(
      "table",
      { class: "upcoming", "data-testid": "upcoming-invoice" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("line") }), h("th", { scope: "col", class: "amount", text: t("amount") }))),
      h(
        "tbody",
        {},
        invoice.lines.map((line) => [
          row(line.description, line.amount),
          line.discount.amount
            ? h("tr", { class: "discount", "data-testid": "discount-line" }, h("td", { class: "hint", text: t(line.amount.amount < 0 ? "discountBilled" : "discount") }), h("td", { class: "amount", text: ctx.money({ ...line.discount, amount: -line.discount.amount }) }))
            : null,
        ]),
        taxRows(ctx, invoice.tax),
        row(t("total"), invoice.total, true),
        invoice.creditApplied.amount ? row(t("creditApplied"), { ...invoice.creditApplied, amount: -invoice.creditApplied.amount }) : null,
        row(t("amountDue"), invoice.amountDue, true),
      ),
    ),
    ...taxNotes(ctx, invoice.tax),
  ];
}
