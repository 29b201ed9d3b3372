// TAX-1, TAX-2: the taxable amount and tax of each rate, as table rows, and the reverse-charge
// legend and the seller's tax id, as paragraphs; for the change preview and the upcoming invoice.
// The section's messages give "taxOn" ("{rate} on {amount}") and "sellerTaxId" ("… {id}").

export function taxRows(ctx, tax) {
  const { h, t } = ctx;
  return (tax?.rates || []).map((r) =>
    h(
      "tr",
      { "data-testid": "tax-rate" },
      h("td", { text: t("taxOn", { rate: r.rate.label, amount: ctx.money(r.taxable) }) }),
      h("td", { class: "amount", text: ctx.money(r.tax) }),
    ),
  );
}

export function taxNotes(ctx, tax) {
  const { h, t } = ctx;
  if (!tax?.rates?.length) return [];
  return [
    tax.legend ? h("p", { class: "hint", "data-testid": "tax-legend", text: tax.legend }) : null,
    tax.sellerTaxId ? h("p", { class: "hint", text: t("sellerTaxId", { id: tax.sellerTaxId }) }) : null,
  ].filter(Boolean);
}
