// The change dialog of the change-plan section: the preview (CHG-1) and, on confirming, the
// change at the previewed amount (CHG-2), with 3-D Secure when the payment needs it (CHG-5).
// Its labels are the change section's messages (ctx.t). Taxes (TAX-1, TAX-2) are shown per rate.
import { taxNotes, taxRows } from "./parts/tax_rows.js";

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
  const trial = ["TRIALING", "TRIAL_ENDED"].includes(ctx.subscriptionStatus);
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
          preview.lines.map((line) => [
            h("tr", {}, h("td", { text: line.description }), h("td", { class: "amount", text: ctx.money(line.amount) })),
            // DSC-2: the line's discount under it (on a credit: the discount it was billed with).
            line.discount.amount
              ? h("tr", { class: "discount", "data-testid": "discount-line" }, h("td", { class: "hint", text: t(line.amount.amount < 0 ? "discountBilled" : "discount") }), h("td", { class: "amount", text: ctx.money({ ...line.discount, amount: -line.discount.amount }) }))
              : null,
          ]),
          taxRows(ctx, preview.tax),
          h("tr", {}, h("th", { scope: "row", text: t("total") }), h("td", { class: "amount", text: ctx.money(preview.total) })),
          preview.creditApplied.amount
            ? h("tr", {}, h("th", { scope: "row", text: t("creditApplied") }), h("td", { class: "amount", text: ctx.money({ ...preview.creditApplied, amount: -preview.creditApplied.amount }) }))
            : null,
        ),
      ),
    );
  }
  body.push(...taxNotes(ctx, preview.tax));
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

function perText(ctx, interval) {
  return ctx.t(`per.${interval}`);
}
