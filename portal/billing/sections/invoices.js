// Invoices (INV-1; billing roles only, ACC-3): each status as a text badge with what it means,
// the PDF fetched with the bearer token, Pay now for OPEN and UNCOLLECTIBLE invoices (DUN-4),
// and completing a renewal's 3-D Secure (DUN-6) through the shell's authenticatePayment.
import { alertText, isForbidden, problem, scrolling, useStyles } from "../parts/answers.js";
import { moreButton } from "../parts/more_button.js";

export const id = "invoices";

export { messages } from "../parts/invoices_messages.js";

const PAYABLE = new Set(["OPEN", "UNCOLLECTIBLE"]); // DUN-4
const TONE = {
  PAID: "status-ok",
  OPEN: "status-warn",
  UNCOLLECTIBLE: "status-bad",
  VOID: "status-info",
  REFUNDED: "status-info",
  PARTIALLY_REFUNDED: "status-info",
  DRAFT: "status-info",
};

export function visible(ctx) {
  return ctx.canManageBilling; // ACC-3: invoices are for the owner and billing admins
}

export async function render(root, ctx) {
  useStyles();
  const { data, errors } = await ctx.gql("InvoicesSection", { after: null });
  const connection = data?.organization?.invoices;
  if (!connection) {
    const text = isForbidden(errors, "invoices") ? ctx.t("forbidden") : problem(errors) || ctx.t("error.generic");
    root.append(ctx.h("p", { text }));
    return;
  }
  const invoices = connection.edges.map((e) => e.node);
  if (!invoices.length) {
    root.append(ctx.h("p", { text: ctx.t("none") }));
    return;
  }
  const status = ctx.h("div", { id: "invoices-status" });
  root.append(prompts(ctx, invoices, data.organization.subscription?.status), status);
  const body = ctx.h("tbody", {}, invoices.map((invoice) => row(ctx, invoice, status)));
  root.append(scrolling(ctx,
    ctx.h(
      "table",
      { class: "invoices" },
      ctx.h("caption", { class: "visually-hidden", text: ctx.t("caption") }),
      ctx.h(
        "thead",
        {},
        ctx.h(
          "tr",
          {},
          ["col.number", "col.issued", "col.kind", "col.status", "col.total", "col.due", "col.actions"].map((key) =>
            ctx.h("th", { scope: "col", class: key === "col.total" || key === "col.due" ? "amount" : null, text: ctx.t(key) }),
          ),
        ),
      ),
      body,
    ),
  ));
  if (connection.pageInfo.hasNextPage) {
    const pages = {
      id: "invoices-more",
      operation: "InvoicesSection",
      connectionOf: (answer) => answer?.organization?.invoices,
      rowOf: (node) => row(ctx, node, status),
    };
    root.append(moreButton(ctx, pages, body, status, connection.pageInfo.endCursor));
  }
}

function prompts(ctx, invoices, subscriptionStatus) {
  const box = ctx.h("div", { class: "invoice-prompts" });
  const unpaid = invoices.filter((i) => PAYABLE.has(i.status) && i.amountDue.amount > 0);
  if (unpaid.length) {
    const total = { amount: unpaid.reduce((sum, i) => sum + i.amountDue.amount, 0), currency: unpaid[0].amountDue.currency };
    const amount = ctx.money(total);
    const plural = new Intl.PluralRules(ctx.locale).select(unpaid.length) === "one" ? "one" : "other";
    const text = ["PENDING_PAYMENT", "FROZEN"].includes(subscriptionStatus)
      ? ctx.t(`prompt.${subscriptionStatus}`, { amount })
      : ctx.t(`prompt.unpaid.${plural}`, { count: ctx.number(unpaid.length), amount });
    box.append(ctx.h("p", { class: "status-warn", id: "invoices-unpaid", role: "status", text }));
  }
  for (const invoice of invoices.filter((i) => i.paymentClientSecret)) {
    box.append(ctx.h("p", { class: "status-warn", text: ctx.t("prompt.action", { number: invoice.number }) }));
  }
  return box;
}

function row(ctx, invoice, status) {
  const meaning = invoice.paymentClientSecret
    ? ctx.t("meaning.action")
    : ctx.t(`meaning.${invoice.status}`, { date: ctx.date(invoice.status === "PAID" ? invoice.paidAt : invoice.dueAt) });
  const period =
    invoice.periodStart && invoice.periodEnd
      ? ctx.h("div", { class: "hint", text: ctx.t("period", { start: ctx.date(invoice.periodStart), end: ctx.date(invoice.periodEnd) }) })
      : null;
  return ctx.h(
    "tr",
    { "data-invoice": invoice.number },
    ctx.h("th", { scope: "row", text: invoice.number }),
    ctx.h("td", { text: ctx.date(invoice.issuedAt) }),
    ctx.h("td", {}, ctx.t(`kind.${invoice.kind}`), period),
    ctx.h(
      "td",
      {},
      ctx.h("span", { class: `badge ${TONE[invoice.status] || ""}`, text: ctx.t(`status.${invoice.status}`) }),
      invoice.disputed // INV-5: the cardholder's bank disputes the payment
        ? ctx.h("span", { class: "badge status-warn", "data-testid": "disputed", text: ctx.t("disputed") })
        : null,
      ctx.h("div", { class: "hint", text: meaning }),
      invoice.disputed ? ctx.h("div", { class: "hint", text: ctx.t("meaning.disputed") }) : null,
    ),
    ctx.h(
      "td",
      { class: "amount" },
      ctx.money(invoice.total),
      invoice.tax?.total.amount // TAX-1: the tax the total contains
        ? ctx.h("div", { class: "hint", text: ctx.t("taxIncluded", { amount: ctx.money(invoice.tax.total) }) })
        : null,
    ),
    ctx.h("td", { class: "amount", text: ctx.money(invoice.amountDue) }),
    ctx.h("td", {}, ctx.h("div", { class: "row" }, actions(ctx, invoice, status))),
  );
}

function actions(ctx, invoice, status) {
  const buttons = [
    ctx.h("button", {
      type: "button",
      "aria-label": ctx.t("pdf.label", { number: invoice.number }),
      text: ctx.t("pdf"),
      onclick: async () => {
        status.replaceChildren();
        try {
          await ctx.download(invoice.pdfUrl, `${invoice.number}.pdf`);
        } catch (error) {
          status.replaceChildren(alertText(ctx, ctx.t("pdf.failed", { reason: error.message })));
        }
      },
    }),
  ];
  if (invoice.paymentClientSecret) {
    buttons.push(
      ctx.h("button", {
        type: "button",
        class: "primary",
        "aria-label": ctx.t("authenticate.label", { number: invoice.number }),
        text: ctx.t("authenticate"),
        onclick: () => authenticate(ctx, invoice, invoice.paymentClientSecret),
      }),
    );
  } else if (PAYABLE.has(invoice.status) && invoice.amountDue.amount > 0) {
    buttons.push(
      ctx.h("button", {
        type: "button",
        class: "primary",
        "aria-label": ctx.t("pay.label", { number: invoice.number }),
        text: ctx.t("pay"),
        onclick: () => payNow(ctx, invoice),
      }),
    );
  }
  return buttons;
}

async function payNow(ctx, invoice) {
  let outcome = null;
  const amount = ctx.money(invoice.amountDue);
  await ctx.dialog({
    title: ctx.t("pay.title", { number: invoice.number }),
    body: ctx.h("p", { text: ctx.t("pay.body", { amount }) }),
    actions: [
      {
        id: "pay",
        label: ctx.t("pay.confirm", { amount }),
        primary: true,
        onSelect: async ({ setError }) => {
          const { data, errors } = await ctx.gql("PayInvoice", { invoiceId: invoice.id });
          const result = data?.payInvoice;
          if (!result) {
            setError(problem(errors) || ctx.t("error.generic"));
            return false;
          }
          if (result.__typename === "UserError") {
            setError(result.message);
            return false;
          }
          outcome = result;
          return true;
        },
      },
      { id: "cancel", label: ctx.t("cancel") },
    ],
  });
  if (!outcome) return;
  if (outcome.__typename === "PaymentActionRequired") {
    await authenticate(ctx, invoice, outcome.clientSecret);
    return;
  }
  ctx.announce(ctx.t("pay.done", { number: invoice.number }));
  await ctx.refresh();
}

async function authenticate(ctx, invoice, clientSecret) {
  const paid = await ctx.authenticatePayment({ invoiceId: invoice.id, clientSecret });
  ctx.announce(ctx.t(paid ? "pay.done" : "pay.notDone", { number: invoice.number }));
  await ctx.refresh();
}
