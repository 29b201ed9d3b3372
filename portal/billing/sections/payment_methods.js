// The payment method (PAY-1, PAY-2; billing roles only): the card on file (brand, last four
// digits, expiry: card data never reaches the gateway), added or replaced through a setup intent.
// In sandbox the setup intent offers the processor's test cards to pick from; with Stripe, Stripe.js
// collects the card with the setup intent's client secret. A new card also pays overdue invoices
// at once (DUN-6), so the other sections are redrawn after a change.
import { loadStripe } from "../../shared/stripe.js";
import { alertText, isForbidden, problem, useStyles } from "../parts/answers.js";

export const id = "payment-method";

export const messages = {
  en: {
    title: "Payment method",
    none: "There is no card on file.",
    card: "{brand} ending in {last4}",
    expires: "Expires {month}/{year}",
    default: "Default",
    add: "Add a card",
    replace: "Replace the card",
    "replace.hint": "The new card becomes the default and the old one is removed. Unpaid invoices are charged to it at once.",
    "dialog.title": "New card",
    "picker.legend": "Test card (sandbox)",
    "picker.hint": "The sandbox takes no real cards: choose a test card and what it does when charged.",
    "outcome.SUCCEEDS": "payments succeed",
    "outcome.DECLINED": "payments are declined",
    "outcome.INSUFFICIENT_FUNDS": "declined: insufficient funds",
    "outcome.REQUIRES_AUTHENTICATION": "every payment asks for 3-D Secure",
    "outcome.EXPIRED": "expired, refused when added",
    "stripe.loading": "Loading the secure card form…",
    "stripe.label": "Card details, entered in Stripe's secure form",
    use: "Use this card",
    saved: "The card ending in {last4} is now your default payment method.",
  },
  it: {
    title: "Metodo di pagamento",
    none: "Nessuna carta registrata.",
    card: "{brand} che termina con {last4}",
    expires: "Scade {month}/{year}",
    default: "Predefinita",
    add: "Aggiungi una carta",
    replace: "Sostituisci la carta",
    "replace.hint": "La nuova carta diventa quella predefinita e la vecchia viene rimossa. Le fatture non pagate vengono addebitate subito sulla nuova.",
    "dialog.title": "Nuova carta",
    "picker.legend": "Carta di prova (sandbox)",
    "picker.hint": "La sandbox non accetta carte reali: scegli una carta di prova e cosa succede quando viene addebitata.",
    "outcome.SUCCEEDS": "i pagamenti riescono",
    "outcome.DECLINED": "i pagamenti vengono rifiutati",
    "outcome.INSUFFICIENT_FUNDS": "rifiutata: fondi insufficienti",
    "outcome.REQUIRES_AUTHENTICATION": "ogni pagamento chiede il 3-D Secure",
    "outcome.EXPIRED": "scaduta, rifiutata quando viene aggiunta",
    "stripe.loading": "Caricamento del modulo sicuro della carta…",
    "stripe.label": "Dati della carta, inseriti nel modulo sicuro di Stripe",
    use: "Usa questa carta",
    saved: "La carta che termina con {last4} è ora il tuo metodo di pagamento predefinito.",
  },
};

const BRANDS = { visa: "Visa", mastercard: "Mastercard", amex: "American Express" };

export function visible(ctx) {
  return ctx.canManageBilling;
}

export async function render(root, ctx) {
  useStyles();
  const { data, errors } = await ctx.gql("PaymentMethodsSection");
  const methods = data?.organization?.paymentMethods;
  if (!methods) {
    const text = isForbidden(errors) ? ctx.t("forbidden") : problem(errors) || ctx.t("error.generic");
    root.append(ctx.h("p", { text }));
    return;
  }
  const list = methods.length
    ? ctx.h(
        "ul",
        { class: "cards" },
        methods.map((m) =>
          ctx.h(
            "li",
            { "data-card": m.last4 },
            ctx.h("strong", { text: ctx.t("card", { brand: brand(m.brand), last4: m.last4 }) }),
            " · ",
            ctx.t("expires", { month: String(m.expMonth).padStart(2, "0"), year: m.expYear }),
            m.isDefault ? [" ", ctx.h("span", { class: "badge status-info", text: ctx.t("default") })] : null,
          ),
        ),
      )
    : ctx.h("p", { text: ctx.t("none") });
  const status = ctx.h("div", { id: "payment-method-status" });
  const button = ctx.h("button", {
    type: "button",
    id: "payment-method-change",
    class: "primary",
    "aria-describedby": "payment-method-hint",
    text: ctx.t(methods.length ? "replace" : "add"),
    onclick: () => changeCard(ctx, status),
  });
  root.append(
    list,
    ctx.h("div", { class: "row" }, button),
    ctx.h("p", { class: "hint", id: "payment-method-hint", text: ctx.t("replace.hint") }),
    status,
  );
}

function brand(code) {
  return BRANDS[code] || code.charAt(0).toUpperCase() + code.slice(1);
}

async function changeCard(ctx, status) {
  status.replaceChildren();
  const { data, errors } = await ctx.gql("CreateSetupIntent");
  const intent = data?.createSetupIntent;
  if (!intent) {
    status.replaceChildren(alertText(ctx, problem(errors) || ctx.t("error.generic")));
    return;
  }
  const saved = intent.testCards ? await pickTestCard(ctx, intent.testCards) : await stripeCard(ctx, intent);
  if (!saved) return;
  const message = ctx.t("saved", { last4: saved.last4 });
  ctx.announce(message);
  await ctx.refresh();
  const shown = document.getElementById("payment-method-status");
  shown?.replaceChildren(ctx.h("p", { class: "status-ok", text: message }));
  document.getElementById("payment-method-change")?.focus();
}

async function replace(ctx, paymentMethodId, setError) {
  const { data, errors } = await ctx.gql("ReplacePaymentMethod", { paymentMethodId });
  const result = data?.replacePaymentMethod;
  if (!result) {
    setError(problem(errors) || ctx.t("error.generic"));
    return null;
  }
  if (result.__typename === "UserError") {
    setError(result.message);
    return null;
  }
  return result.paymentMethod;
}

async function pickTestCard(ctx, cards) {
  let saved = null;
  const options = cards.map((card, index) => {
    const inputId = `test-card-${index}`;
    return ctx.h(
      "div",
      { class: "field inline" },
      ctx.h("input", {
        type: "radio",
        id: inputId,
        name: "test-card",
        value: card.paymentMethodId,
        checked: index === 0,
        autofocus: index === 0, // the dialog focuses it first
      }),
      ctx.h("label", {
        for: inputId,
        text: `${ctx.t("card", { brand: brand(card.brand), last4: card.last4 })} — ${ctx.t(`outcome.${card.outcome}`)}`,
      }),
    );
  });
  const fieldset = ctx.h(
    "fieldset",
    { "aria-describedby": "test-card-hint" },
    ctx.h("legend", { text: ctx.t("picker.legend") }),
    ctx.h("p", { class: "hint", id: "test-card-hint", text: ctx.t("picker.hint") }),
    options,
  );
  await ctx.dialog({
    title: ctx.t("dialog.title"),
    body: fieldset,
    actions: [
      {
        id: "use",
        label: ctx.t("use"),
        primary: true,
        onSelect: async ({ setError }) => {
          const picked = fieldset.querySelector("input[name='test-card']:checked");
          saved = await replace(ctx, picked.value, setError);
          return saved !== null;
        },
      },
      { id: "cancel", label: ctx.t("cancel") },
    ],
  });
  return saved;
}

async function stripeCard(ctx, intent) {
  // Stripe.js's Payment Element in the dialog; confirmSetup attaches the card at Stripe, and the
  // gateway is told only the payment method's id (PAY-1).
  let saved = null;
  const mount = ctx.h("div", { id: "stripe-card", role: "group", "aria-label": ctx.t("stripe.label") }, ctx.h("p", { text: ctx.t("stripe.loading") }));
  let stripe = null;
  let elements = null;
  loadStripe(ctx.config.stripePublishableKey)
    .then((loaded) => {
      stripe = loaded;
      elements = stripe.elements({ clientSecret: intent.clientSecret, locale: ctx.lang });
      mount.replaceChildren();
      elements.create("payment").mount(mount);
    })
    .catch((error) => mount.replaceChildren(alertText(ctx, error.message)));
  await ctx.dialog({
    title: ctx.t("dialog.title"),
    body: mount,
    actions: [
      {
        id: "use",
        label: ctx.t("use"),
        primary: true,
        onSelect: async ({ setError }) => {
          if (!stripe || !elements) return false;
          const { error, setupIntent } = await stripe.confirmSetup({ elements, redirect: "if_required" });
          if (error) {
            setError(error.message);
            return false;
          }
          saved = await replace(ctx, setupIntent.payment_method, setError);
          return saved !== null;
        },
      },
      { id: "cancel", label: ctx.t("cancel") },
    ],
  });
  return saved;
}
