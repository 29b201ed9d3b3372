// Stripe.js, loaded from Stripe (the CSP allows exactly https://js.stripe.com, and only with the
// Stripe processor) the first time a card form or a 3-D Secure step needs it.
let loading = null;

export function loadStripe(publishableKey) {
  if (!publishableKey) return Promise.reject(new Error("STRIPE_PUBLISHABLE_KEY is not set"));
  loading ||= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.onload = () => resolve(window.Stripe(publishableKey));
    script.onerror = () => reject(new Error("Stripe.js could not be loaded"));
    document.head.append(script);
  });
  return loading;
}
