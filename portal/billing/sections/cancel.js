// Cancelling with a required reason (CAN-1), the date it takes effect before it is asked for
// (CAN-2's notice included), and reactivating before then. The owner only, unless every product
// lets billing admins cancel too (ACC-4).
import { uid } from "../../shared/dom.js";

export const id = "cancel";

export const messages = {
  en: {
    title: "Cancel subscription",
    notice: "If you cancel now, the subscription ends on {date}. You keep your plan until then and can reactivate it before that date.",
    "policy.END_OF_PERIOD": "{product}: ends at the end of the current billing period.",
    "policy.MONTH_PLUS_REMAINDER": "{product}: the notice is the rest of this month plus one month; a cancellation later than one month and a day before the renewal does not avoid that renewal.",
    open: "Cancel the subscription…",
    dialogTitle: "Cancel the subscription",
    reason: "Why are you cancelling? (required)",
    reasonRequired: "Tell us why you are cancelling: a reason is required.",
    confirm: "Cancel the subscription",
    keep: "Keep my subscription",
    cancelling: "The subscription ends on {date}.",
    reasonGiven: "Reason given: {reason}",
    reactivate: "Reactivate the subscription",
    reactivated: "The subscription is active again.",
    cancelled: "The subscription ends on {date}.",
    ended: "The subscription is cancelled.",
    unavailable: "The subscription cannot be cancelled while it is in this state.",
  },
  it: {
    title: "Cancella l'abbonamento",
    notice: "Se cancelli ora, l'abbonamento termina il {date}. Mantieni il piano fino ad allora e puoi riattivarlo prima di quella data.",
    "policy.END_OF_PERIOD": "{product}: termina alla fine del periodo di fatturazione attuale.",
    "policy.MONTH_PLUS_REMAINDER": "{product}: il preavviso è il resto di questo mese più un mese; una cancellazione successiva a un mese e un giorno prima del rinnovo non evita quel rinnovo.",
    open: "Cancella l'abbonamento…",
    dialogTitle: "Cancella l'abbonamento",
    reason: "Perché cancelli? (obbligatorio)",
    reasonRequired: "Dicci perché cancelli: il motivo è obbligatorio.",
    confirm: "Cancella l'abbonamento",
    keep: "Mantieni l'abbonamento",
    cancelling: "L'abbonamento termina il {date}.",
    reasonGiven: "Motivo indicato: {reason}",
    reactivate: "Riattiva l'abbonamento",
    reactivated: "L'abbonamento è di nuovo attivo.",
    cancelled: "L'abbonamento termina il {date}.",
    ended: "L'abbonamento è cancellato.",
    unavailable: "L'abbonamento non può essere cancellato in questo stato.",
  },
};

export function visible(ctx) {
  return ctx.isOwner || ctx.role === "BILLING_ADMIN";
}

export async function render(root, ctx) {
  const { h, t } = ctx;
  const { data, errors } = await ctx.gql("BillingCancel");
  const subscription = data?.organization?.subscription;
  if (!subscription) {
    if (errors.length) root.append(h("p", { text: errors[0].message }));
    return errors.length ? undefined : false;
  }
  const policies = subscription.items.map((item) => item.product.policy);
  const widened = policies.length > 0 && policies.every((policy) => policy.billingAdminMayCancel);
  if (!ctx.isOwner && !widened) return false; // ACC-4
  if (subscription.status === "CANCELLED") {
    root.append(h("p", { text: t("ended") }));
    return;
  }
  if (subscription.status === "CANCELLING") {
    root.append(
      h("p", { "data-testid": "cancel-at", text: t("cancelling", { date: ctx.date(subscription.cancelAt) }) }),
      subscription.cancelReason ? h("p", { class: "hint", text: t("reasonGiven", { reason: subscription.cancelReason }) }) : null,
      h("button", {
        type: "button",
        class: "primary",
        text: t("reactivate"),
        onclick: async (event) => {
          event.currentTarget.disabled = true;
          const { data: answer, errors: failed } = await ctx.gql("ReactivateSubscription");
          const result = answer?.reactivateSubscription;
          if (!result || result.__typename === "UserError") {
            ctx.notify(result?.message || failed[0]?.message || t("error.generic"), "bad");
          } else {
            ctx.notify(t("reactivated"), "ok");
          }
          await ctx.refresh();
        },
      }),
    );
    return;
  }
  if (!subscription.cancellationDate) {
    root.append(h("p", { text: t("unavailable") }));
    return;
  }
  root.append(
    h("p", { "data-testid": "notice-date", text: t("notice", { date: ctx.date(subscription.cancellationDate) }) }),
    h("ul", { class: "hint" }, subscription.items.map((item) => h("li", { text: t(`policy.${item.product.policy.cancellationNotice}`, { product: item.product.name }) }))),
    h("button", { type: "button", class: "danger", text: t("open"), onclick: () => openCancel(ctx, subscription) }),
  );
}

async function openCancel(ctx, subscription) {
  const { h, t } = ctx;
  const reasonId = uid("reason");
  const reason = h("textarea", { id: reasonId, name: "reason", "aria-required": "true", maxlength: "2000", autofocus: true });
  let cancelAt = null;
  await ctx.dialog({
    title: t("dialogTitle"),
    body: [
      h("p", { text: t("notice", { date: ctx.date(subscription.cancellationDate) }) }),
      h("div", { class: "field" }, h("label", { for: reasonId, text: t("reason") }), reason),
    ],
    actions: [
      {
        id: "confirm",
        label: t("confirm"),
        danger: true,
        onSelect: async ({ setError }) => {
          if (!reason.value.trim()) {
            setError(t("reasonRequired"));
            reason.setAttribute("aria-invalid", "true");
            reason.focus();
            return false;
          }
          const { data, errors } = await ctx.gql("CancelSubscription", { reason: reason.value });
          const result = data?.cancelSubscription;
          if (!result || result.__typename === "UserError") {
            setError(result?.message || errors[0]?.message || t("error.generic"));
            return false;
          }
          cancelAt = result.cancelAt;
          return true;
        },
      },
      { id: "keep", label: t("keep"), primary: true },
    ],
  });
  if (cancelAt) {
    ctx.notify(t("cancelled", { date: ctx.date(cancelAt) }), "warn");
    await ctx.refresh();
  }
}
