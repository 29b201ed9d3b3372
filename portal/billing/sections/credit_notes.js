// Credit notes (CRN-1; billing roles only, ACC-3), below the invoices: the invoice each
// corrects, its total in its own currency (CUR-1), where the money went (refunded to the card or
// added to the credit balance), and the PDF fetched with the bearer token like the invoices'.
import { alertText, isForbidden, problem, scrolling, useStyles } from "../parts/answers.js";
import { moreButton } from "../parts/more_button.js";

export const id = "credit-notes";

export { messages } from "../parts/credit_notes_messages.js";

const COLUMNS = ["col.number", "col.issued", "col.invoice", "col.total", "col.destination", "col.actions"];

export function visible(ctx) {
  return ctx.canManageBilling; // ACC-3: like the invoices, for the owner and billing admins
}

export async function render(root, ctx) {
  useStyles();
  const { data, errors } = await ctx.gql("CreditNotesSection", { after: null });
  const connection = data?.organization?.creditNotes;
  if (!connection) {
    const text = isForbidden(errors, "creditNotes") ? ctx.t("forbidden") : problem(errors) || ctx.t("error.generic");
    root.append(ctx.h("p", { text }));
    return;
  }
  const notes = connection.edges.map((e) => e.node);
  if (!notes.length) {
    root.append(ctx.h("p", { "data-testid": "credit-notes-none", text: ctx.t("none") }));
    return;
  }
  const status = ctx.h("div", { id: "credit-notes-status" });
  const body = ctx.h("tbody", {}, notes.map((note) => row(ctx, note, status)));
  root.append(
    status,
    scrolling(ctx,
      ctx.h(
        "table",
        { class: "invoices credit-notes" },
        ctx.h("caption", { class: "visually-hidden", text: ctx.t("caption") }),
        ctx.h(
          "thead",
          {},
          ctx.h(
            "tr",
            {},
            COLUMNS.map((key) => ctx.h("th", { scope: "col", class: key === "col.total" ? "amount" : null, text: ctx.t(key) })),
          ),
        ),
        body,
      ),
    ),
  );
  if (connection.pageInfo.hasNextPage) {
    const pages = {
      id: "credit-notes-more",
      operation: "CreditNotesSection",
      connectionOf: (answer) => answer?.organization?.creditNotes,
      rowOf: (node) => row(ctx, node, status),
    };
    root.append(moreButton(ctx, pages, body, status, connection.pageInfo.endCursor));
  }
}

function row(ctx, note, status) {
  return ctx.h(
    "tr",
    { "data-credit-note": note.number },
    ctx.h("th", { scope: "row", text: note.number }),
    ctx.h("td", { text: ctx.date(note.issuedAt) }),
    ctx.h("td", { "data-testid": "corrects", text: note.invoice?.number ?? "" }),
    ctx.h(
      "td",
      { class: "amount" },
      ctx.money(note.total),
      note.tax?.amount // TAX-1: the tax the credit reverses
        ? ctx.h("div", { class: "hint", text: ctx.t("taxIncluded", { amount: ctx.money(note.tax) }) })
        : null,
    ),
    ctx.h(
      "td",
      {},
      ctx.h("span", { class: "badge status-info", "data-testid": "destination", text: ctx.t(`destination.${note.destination}`) }),
      ctx.h("div", { class: "hint", text: ctx.t(`meaning.${note.destination}`) }),
      note.reason ? ctx.h("div", { class: "hint", "data-testid": "reason", text: note.reason }) : null,
    ),
    ctx.h(
      "td",
      {},
      ctx.h("div", { class: "row" },
        ctx.h("button", {
          type: "button",
          "aria-label": ctx.t("pdf.label", { number: note.number }),
          text: ctx.t("pdf"),
          onclick: async () => {
            status.replaceChildren();
            try {
              await ctx.download(note.pdfUrl, `${note.number}.pdf`);
            } catch (error) {
              status.replaceChildren(alertText(ctx, ctx.t("pdf.failed", { reason: error.message })));
            }
          },
        }),
      ),
    ),
  );
}
