// Upgrade preferences per product (PREF-1, PREF-2) with what each choice costs, auto-downgrade
// by profile count (PREF-3), and the pause of automatic charges after a failed card payment
// (DUN-5). Billing roles only (ACC-2).
import { uid } from "../../shared/dom.js";

export const id = "preferences";

export const messages = {
  en: {
    title: "Upgrade preferences",
    intro: "Choose, per product, what happens when usage reaches the plan's limit. It takes effect at once.",
    legend: "{product}: at the limit",
    default: "(default)",
    "pref.NONE": "Stop at the limit",
    "pref.AUTO_UPGRADE": "Upgrade automatically",
    "pref.FLEXIBLE_OVERAGE": "Buy extra volume",
    "pref.ON_DEMAND": "Pay per block",
    "cost.NONE": "Sending stops until you upgrade or the next month starts. No extra cost.",
    "cost.AUTO_UPGRADE": "Moves to {plan} at {amount} {per}; the difference for the rest of the period is charged at once.",
    "cost.AUTO_UPGRADE.top": "You are on the highest tier: there is nothing to upgrade to, so sending stops at the limit.",
    "cost.FLEXIBLE_OVERAGE": "Each time the limit is reached: {list}, charged once; the plan stays.",
    "cost.FLEXIBLE_OVERAGE.item": "{volume} more {metric} for {amount}",
    "cost.FLEXIBLE_OVERAGE.top": "You are on the highest tier: there is no extra volume to buy.",
    "cost.ON_DEMAND": "{amount} per {size} {metric} past the limit, on the monthly usage invoice.",
    autoDowngrade: "Move to a smaller tier for the next period when the profile count fits it",
    autoDowngradeHint: "Checked 24 hours before the period ends. Not available together with automatic upgrades.",
    save: "Save {product}",
    saved: "{product}: preferences saved.",
    paused: "Automatic charges are paused: {reason}",
    pausedTodo: "Replace the card in Payment methods, then save the preference again to switch automatic charges back on.",
    pausedLink: "Go to payment methods",
    none: "No product of this subscription offers a choice at its limit.",
  },
  it: {
    title: "Preferenze di upgrade",
    intro: "Scegli, per ogni prodotto, cosa succede quando l'utilizzo raggiunge il limite del piano. Ha effetto subito.",
    legend: "{product}: al limite",
    default: "(predefinita)",
    "pref.NONE": "Fermati al limite",
    "pref.AUTO_UPGRADE": "Upgrade automatico",
    "pref.FLEXIBLE_OVERAGE": "Acquista volume extra",
    "pref.ON_DEMAND": "Paga a blocchi",
    "cost.NONE": "Gli invii si fermano finché non fai l'upgrade o inizia il mese successivo. Nessun costo aggiuntivo.",
    "cost.AUTO_UPGRADE": "Passa a {plan} a {amount} {per}; la differenza per il resto del periodo viene addebitata subito.",
    "cost.AUTO_UPGRADE.top": "Sei già al livello più alto: non c'è un upgrade possibile, quindi gli invii si fermano al limite.",
    "cost.FLEXIBLE_OVERAGE": "Ogni volta che raggiungi il limite: {list}, addebitati una volta; il piano resta lo stesso.",
    "cost.FLEXIBLE_OVERAGE.item": "{volume} {metric} in più per {amount}",
    "cost.FLEXIBLE_OVERAGE.top": "Sei già al livello più alto: non c'è volume extra da acquistare.",
    "cost.ON_DEMAND": "{amount} ogni {size} {metric} oltre il limite, nella fattura mensile dell'utilizzo.",
    autoDowngrade: "Passa a un livello inferiore dal periodo successivo quando il numero di profili vi rientra",
    autoDowngradeHint: "Verificato 24 ore prima della fine del periodo. Non disponibile insieme all'upgrade automatico.",
    save: "Salva {product}",
    saved: "{product}: preferenze salvate.",
    paused: "Gli addebiti automatici sono sospesi: {reason}",
    pausedTodo: "Sostituisci la carta in Metodi di pagamento, poi salva di nuovo la preferenza per riattivare gli addebiti automatici.",
    pausedLink: "Vai ai metodi di pagamento",
    none: "Nessun prodotto di questo abbonamento offre una scelta al limite.",
  },
};

export function visible(ctx) {
  return ctx.canManageBilling;
}

export async function render(root, ctx) {
  const { h, t } = ctx;
  const { data, errors } = await ctx.gql("BillingPreferences");
  const subscription = data?.organization?.subscription;
  if (!subscription) {
    root.append(h("p", { text: errors[0]?.message || t("none") }));
    return;
  }
  const items = subscription.items.filter((item) => item.product.policy.upgradePreferences.length);
  if (!items.length) return false;
  root.append(h("p", { class: "hint", text: t("intro") }));
  const catalog = new Map(data.catalog.products.map((product) => [product.code, product]));
  for (const item of items) root.append(productForm(ctx, subscription, item, catalog.get(item.product.code)));
}

function costText(ctx, subscription, item, listed, preference) {
  const { t } = ctx;
  const product = item.product;
  if (preference === "AUTO_UPGRADE") {
    const next = (listed?.plans || [])
      .filter((plan) => plan.rank > item.plan.rank)
      .sort((a, b) => a.rank - b.rank)[0];
    const price = next?.prices.find((p) => p.interval === subscription.billingInterval)?.amount;
    if (!next || item.plan.bundle) return t("cost.AUTO_UPGRADE.top");
    return t("cost.AUTO_UPGRADE", { plan: next.name, amount: price ? ctx.money(price) : "", per: t(`per.${subscription.billingInterval}`) });
  }
  if (preference === "FLEXIBLE_OVERAGE") {
    const overages = item.flexibleOverages || [];
    if (!overages.length) return t("cost.FLEXIBLE_OVERAGE.top");
    const list = overages.map((o) => t("cost.FLEXIBLE_OVERAGE.item", { volume: ctx.number(o.volume), metric: o.metric, amount: ctx.money(o.amount) }));
    return t("cost.FLEXIBLE_OVERAGE", { list: list.join("; ") });
  }
  if (preference === "ON_DEMAND") {
    const demand = listed?.policy.onDemand;
    if (!demand) return "";
    return t("cost.ON_DEMAND", { amount: ctx.money(demand.blockPrice), size: ctx.number(demand.blockSize), metric: demand.metric });
  }
  return t("cost.NONE");
}

function productForm(ctx, subscription, item, listed) {
  const { h, t } = ctx;
  const product = item.product;
  const policy = product.policy;
  const name = uid(`pref-${product.code}`);
  const chosen = item.upgradePreference ?? policy.defaultPreference;
  const radios = policy.upgradePreferences.map((preference) => {
    const radioId = uid("pref");
    const costId = uid("pref-cost");
    const radio = h("input", {
      type: "radio",
      id: radioId,
      name,
      value: preference,
      checked: preference === chosen,
      "aria-describedby": costId,
    });
    return h(
      "div",
      { class: "field inline pref" },
      radio,
      h(
        "div",
        {},
        h("label", { for: radioId, text: `${t(`pref.${preference}`)}${preference === policy.defaultPreference ? ` ${t("default")}` : ""}` }),
        h("p", { class: "hint", id: costId, text: costText(ctx, subscription, item, listed, preference) }),
      ),
    );
  });
  const error = h("p", { class: "error", role: "alert" });
  const parts = [h("legend", { text: t("legend", { product: product.name }) }), radios];
  let autoBox = null;
  if (policy.autoDowngradeAvailable) {
    const boxId = uid("auto-downgrade");
    const hintId = uid("auto-downgrade-hint");
    autoBox = h("input", { type: "checkbox", id: boxId, checked: item.autoDowngrade, "aria-describedby": hintId });
    parts.push(
      h("div", { class: "field inline" }, autoBox, h("label", { for: boxId, text: t("autoDowngrade") })),
      h("p", { class: "hint", id: hintId, text: t("autoDowngradeHint") }),
    );
  }
  const pause = item.automaticChargesPaused
    ? h(
        "div",
        { class: "paused status-bad", role: "note", "data-testid": "paused" },
        h("p", {}, h("span", { class: "badge status-bad", text: "!" }), " ", t("paused", { reason: item.automaticChargesPauseReason || "" })),
        h("p", { text: t("pausedTodo") }),
        h("a", { href: "#payment_methods", text: t("pausedLink") }),
      )
    : null;
  const form = h(
    "form",
    {
      class: "product",
      "data-product": product.code,
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const selected = form.querySelector(`input[name="${name}"]:checked`)?.value;
        const wantAuto = autoBox ? autoBox.checked : item.autoDowngrade;
        // Auto-downgrade is switched off before an automatic upgrade is chosen, and on after.
        const steps = [];
        if (autoBox && !wantAuto && item.autoDowngrade) steps.push(["SetAutoDowngrade", { product: product.code, enabled: false }, "setAutoDowngrade"]);
        if (selected && (selected !== item.upgradePreference || item.automaticChargesPaused)) {
          steps.push(["SetUpgradePreference", { product: product.code, preference: selected }, "setUpgradePreference"]);
        }
        if (autoBox && wantAuto && !item.autoDowngrade) steps.push(["SetAutoDowngrade", { product: product.code, enabled: true }, "setAutoDowngrade"]);
        for (const [operation, variables, field] of steps) {
          const { data, errors } = await ctx.gql(operation, variables);
          const result = data?.[field];
          if (!result || result.__typename === "UserError") {
            error.textContent = result?.message || errors[0]?.message || t("error.generic");
            return;
          }
        }
        ctx.notify(t("saved", { product: product.name }), "ok");
        await ctx.refresh();
      },
    },
    pause,
    h("fieldset", {}, parts),
    error,
    h("button", { type: "submit", text: t("save", { product: product.name }) }),
  );
  return form;
}
