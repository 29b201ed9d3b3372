// 3-D Secure for a payment that waits for the customer (CHG-5 on a plan change, DUN-6 on a
// renewal). In sandbox a dialog completes or fails the test authentication
// (completeTestPaymentAction); with Stripe, Stripe.js runs the card issuer's next action.
// Resolves true when the payment went through.
import { h } from "./dom.js";
import { loadStripe } from "./stripe.js";

export async function authenticatePayment(ctx, { invoiceId, clientSecret }) {
  if (!ctx.sandbox) {
    const stripe = await loadStripe(ctx.config.stripePublishableKey);
    const result = await stripe.handleNextAction({ clientSecret });
    if (result.error) {
      await ctx.dialog({
        title: ctx.t("3ds.title"),
        body: h("p", { text: result.error.message }),
        actions: [{ id: "ok", label: ctx.t("close"), primary: true }],
      });
      return false;
    }
    return true;
  }
  let succeeded = false;
  async function send(succeed, { setError }) {
    const { data, errors } = await ctx.gql("CompleteTestPaymentAction", { invoiceId, succeed });
    const result = data?.completeTestPaymentAction;
    if (!result || errors.length) {
      setError(errors[0]?.message || ctx.t("error.generic"));
      return false;
    }
    if (result.__typename === "UserError") {
      // Failing the authentication is answered with the payment's failure: the dialog is done.
      if (!succeed) return true;
      setError(result.message);
      return false;
    }
    succeeded = result.__typename === "InvoicePaid";
    return true;
  }
  await ctx.dialog({
    title: ctx.t("3ds.title"),
    body: [h("p", { text: ctx.t("3ds.sandbox") })],
    actions: [
      { id: "complete", label: ctx.t("3ds.complete"), primary: true, onSelect: (d) => send(true, d) },
      { id: "fail", label: ctx.t("3ds.fail"), danger: true, onSelect: (d) => send(false, d) },
    ],
  });
  return succeeded;
}
