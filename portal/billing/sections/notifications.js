// Notifications (NOT-1): what the gateway told the owner and billing admins, newest first, each
// with its kind as a text label (the message itself is the gateway's, as e-mailed).
import { isForbidden, problem, useStyles } from "../parts/answers.js";

export const id = "notifications";

export const messages = {
  en: {
    title: "Notifications",
    caption: "Notifications, newest first",
    none: "No notifications.",
    "kind.PAYMENT_FAILED": "Payment failed",
    "kind.PAYMENT_ACTION_REQUIRED": "Confirmation needed",
    "kind.PAYMENT_REFUNDED": "Refund",
    "kind.DISPUTE_OPENED": "Payment disputed",
    "kind.DISPUTE_CLOSED": "Dispute closed",
    "kind.STATUS_CHANGED": "Status changed",
    "kind.UPCOMING_RENEWAL": "Upcoming renewal",
    "kind.USAGE_THRESHOLD": "Usage alert",
    "kind.LIMIT_REACHED": "Limit reached",
    "kind.AUTO_UPGRADE": "Automatic upgrade",
    "kind.FLEXIBLE_OVERAGE": "Extra volume bought",
    "kind.AUTO_DOWNGRADE": "Automatic downgrade",
    "kind.AUTOSCALE": "Automatic scaling",
  },
  it: {
    title: "Notifiche",
    caption: "Notifiche, dalla più recente",
    none: "Nessuna notifica.",
    "kind.PAYMENT_FAILED": "Pagamento non riuscito",
    "kind.PAYMENT_ACTION_REQUIRED": "Conferma richiesta",
    "kind.PAYMENT_REFUNDED": "Rimborso",
    "kind.DISPUTE_OPENED": "Pagamento contestato",
    "kind.DISPUTE_CLOSED": "Contestazione chiusa",
    "kind.STATUS_CHANGED": "Stato cambiato",
    "kind.UPCOMING_RENEWAL": "Rinnovo in arrivo",
    "kind.USAGE_THRESHOLD": "Avviso di utilizzo",
    "kind.LIMIT_REACHED": "Limite raggiunto",
    "kind.AUTO_UPGRADE": "Upgrade automatico",
    "kind.FLEXIBLE_OVERAGE": "Volume extra acquistato",
    "kind.AUTO_DOWNGRADE": "Downgrade automatico",
    "kind.AUTOSCALE": "Scalabilità automatica",
  },
};

const TONE = {
  PAYMENT_FAILED: "status-bad",
  PAYMENT_ACTION_REQUIRED: "status-warn",
  DISPUTE_OPENED: "status-warn",
  LIMIT_REACHED: "status-warn",
  USAGE_THRESHOLD: "status-warn",
};

export function visible(ctx) {
  return ctx.canManageBilling; // NOT-1: notices go to the owner and billing admins
}

export async function render(root, ctx) {
  useStyles();
  const { data, errors } = await ctx.gql("NotificationsSection");
  const notices = data?.organization?.notifications;
  if (!notices) {
    const text = isForbidden(errors) ? ctx.t("forbidden") : problem(errors) || ctx.t("error.generic");
    root.append(ctx.h("p", { text }));
    return;
  }
  if (!notices.length) {
    root.append(ctx.h("p", { text: ctx.t("none") }));
    return;
  }
  root.append(
    ctx.h(
      "ul",
      { class: "notifications", "aria-label": ctx.t("caption") },
      notices.map((n) =>
        ctx.h(
          "li",
          { "data-kind": n.kind },
          ctx.h("span", { class: `badge ${TONE[n.kind] || "status-info"}`, text: ctx.t(`kind.${n.kind}`) }),
          " ",
          ctx.h("time", { datetime: n.createdAt, text: ctx.date(n.createdAt) }),
          ctx.h("p", { text: n.message }),
        ),
      ),
    ),
  );
}
