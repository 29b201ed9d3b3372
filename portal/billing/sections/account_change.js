// Downgrades of BY_REQUEST products are made by staff on request (CHG-8): a message is filed as
// a request (REQUESTED) and nothing changes until staff act. Billing roles only (ACC-2).
import { uid } from "../../shared/dom.js";

export const id = "account_change";

export const messages = {
  en: {
    title: "Account change request",
    intro: "Downgrades of {products} are made by our staff on request: describe the change you need. Nothing changes until they act on it.",
    message: "What should change?",
    send: "Send the request",
    required: "Describe the change you need: the message is required.",
    sent: "Your request is sent to our staff.",
    requests: "Your requests",
    date: "Date",
    text: "Request",
    status: "Status",
    "status.REQUESTED": "Requested",
    "status.DONE": "Done",
    "status.DECLINED": "Declined",
    none: "No requests yet.",
  },
  it: {
    title: "Richiesta di modifica dell'account",
    intro: "I downgrade di {products} vengono fatti dal nostro staff su richiesta: descrivi la modifica che ti serve. Nulla cambia finché non interviene.",
    message: "Cosa deve cambiare?",
    send: "Invia la richiesta",
    required: "Descrivi la modifica che ti serve: il messaggio è obbligatorio.",
    sent: "La richiesta è stata inviata al nostro staff.",
    requests: "Le tue richieste",
    date: "Data",
    text: "Richiesta",
    status: "Stato",
    "status.REQUESTED": "Richiesta inviata",
    "status.DONE": "Completata",
    "status.DECLINED": "Rifiutata",
    none: "Nessuna richiesta finora.",
  },
};

export function visible(ctx) {
  return ctx.canManageBilling;
}

export async function render(root, ctx) {
  const { h, t } = ctx;
  const { data } = await ctx.gql("BillingAccountChange");
  const organization = data?.organization;
  const items = (organization?.subscription?.items || []).filter((item) => item.product.policy.downgradeTiming === "BY_REQUEST");
  const requests = organization?.accountChangeRequests || [];
  if (!items.length && !requests.length) return false;
  const messageId = uid("account-change");
  const message = h("textarea", { id: messageId, name: "message", "aria-required": "true", maxlength: "5000" });
  const error = h("p", { class: "error", role: "alert" });
  root.append(
    h("p", { text: t("intro", { products: items.map((item) => item.product.name).join(", ") }) }),
    h(
      "form",
      {
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = "";
          if (!message.value.trim()) {
            error.textContent = t("required");
            message.setAttribute("aria-invalid", "true");
            message.focus();
            return;
          }
          const { data: answer, errors } = await ctx.gql("RequestAccountChange", { message: message.value });
          const result = answer?.requestAccountChange;
          if (!result || result.__typename === "UserError") {
            error.textContent = result?.message || errors[0]?.message || t("error.generic");
            return;
          }
          ctx.notify(t("sent"), "ok");
          await ctx.refresh();
        },
      },
      h("div", { class: "field" }, h("label", { for: messageId, text: t("message") }), message),
      error,
      h("button", { type: "submit", text: t("send") }),
    ),
    h("h3", { text: t("requests") }),
    requests.length
      ? h(
          "table",
          { "data-testid": "account-change-requests" },
          h("thead", {}, h("tr", {}, [t("date"), t("text"), t("status")].map((text) => h("th", { scope: "col", text })))),
          h(
            "tbody",
            {},
            requests.map((request) =>
              h(
                "tr",
                {},
                h("td", { text: ctx.date(request.createdAt) }),
                h("td", { text: request.message }),
                h("td", {}, h("span", { class: "badge", text: statusLabel(t, request.status) })),
              ),
            ),
          ),
        )
      : h("p", { text: t("none") }),
  );
}

function statusLabel(t, status) {
  const key = `status.${status}`;
  const label = t(key);
  return label === key ? status : label;
}
