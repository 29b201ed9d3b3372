// Reading the API's answers in the usage, invoices, billing information, payment method and
// notifications sections: a field refused with FORBIDDEN is left out, any other error is shown.

// The first error that is not a FORBIDDEN field (those sections simply leave out).
export function problem(errors) {
  const other = (errors || []).find((e) => e.extensions?.code !== "FORBIDDEN");
  return other ? other.message || "" : null;
}

export function isForbidden(errors, field) {
  return (errors || []).some(
    (e) => e.extensions?.code === "FORBIDDEN" && (!field || (e.path || []).includes(field)),
  );
}

// A paragraph announced to screen readers (role=alert) for a failure the person can act on.
export function alertText(ctx, text) {
  return ctx.h("p", { class: "error", role: "alert", text });
}

// Redraws a section in place: keeps the shell's heading, empties the rest, then renders again.
// Focus goes back to the element with `focusId` when the new drawing has one (keyboard users
// stay where they were).
export async function redraw(root, ctx, render, focusId) {
  const heading = root.querySelector("h2");
  root.replaceChildren(...(heading ? [heading] : []));
  root.setAttribute("aria-busy", "true");
  try {
    await render(root, ctx);
  } finally {
    root.removeAttribute("aria-busy");
  }
  if (focusId) document.getElementById(focusId)?.focus();
}

// A label from the section's messages, or the code itself when there is none (a catalog's
// metric the page does not know yet).
export function labelOr(ctx, key, fallback) {
  const text = ctx.t(key);
  return text === key ? fallback : text;
}

// These sections' own stylesheet, linked once (the page's CSP allows the gateway's own files).
const STYLES = "/portal/billing/parts/sections.css";

export function useStyles() {
  if (document.querySelector(`link[href="${STYLES}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLES;
  document.head.append(link);
}

// A wide table scrolls sideways inside its section on a phone instead of overflowing the page.
export function scrolling(ctx, table) {
  return ctx.h("div", { class: "table-scroll" }, table);
}
