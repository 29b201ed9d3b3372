// Billing information (INV-3; billing roles only, ACC-2/3): what the next invoices are issued
// with. Issued invoices keep the details they carry, and the page says so.
import { alertText, isForbidden, problem, useStyles } from "../parts/answers.js";

export const id = "billing-info";

export const messages = {
  en: {
    title: "Billing information",
    applies: "Changes apply to the next invoice. Invoices already issued keep the details they were issued with.",
    companyName: "Company name",
    billingEmail: "Billing e-mail",
    addressLine1: "Address",
    addressLine2: "Address, second line",
    city: "City",
    postalCode: "Postal code",
    country: "Country",
    "country.hint": "Two-letter code, e.g. IT, DE, US.",
    region: "Region",
    "region.hint": "Only where taxes differ by region: the code without the country, e.g. QC.",
    taxId: "Tax id (VAT number)",
    contactName: "Contact person",
    required: "(required)",
    save: "Save billing information",
    saved: "Billing information saved; it applies to the next invoice.",
  },
  it: {
    title: "Dati di fatturazione",
    applies: "Le modifiche valgono dalla prossima fattura. Le fatture già emesse mantengono i dati con cui sono state emesse.",
    companyName: "Ragione sociale",
    billingEmail: "E-mail per la fatturazione",
    addressLine1: "Indirizzo",
    addressLine2: "Indirizzo, seconda riga",
    city: "Città",
    postalCode: "CAP",
    country: "Paese",
    "country.hint": "Codice di due lettere, ad es. IT, DE, US.",
    region: "Regione",
    "region.hint": "Solo dove le imposte cambiano per regione: il codice senza il paese, ad es. QC.",
    taxId: "Partita IVA",
    contactName: "Persona di riferimento",
    required: "(obbligatorio)",
    save: "Salva i dati di fatturazione",
    saved: "Dati di fatturazione salvati; valgono dalla prossima fattura.",
  },
};

// The input's fields, their maxima (schema/input_limits.py) and the browser's autocomplete hints.
const FIELDS = [
  { name: "companyName", max: 200, required: true, autocomplete: "organization" },
  { name: "billingEmail", max: 254, required: true, type: "email", autocomplete: "email" },
  { name: "addressLine1", max: 200, autocomplete: "address-line1" },
  { name: "addressLine2", max: 200, autocomplete: "address-line2" },
  { name: "city", max: 100, autocomplete: "address-level2" },
  { name: "postalCode", max: 20, autocomplete: "postal-code" },
  { name: "country", max: 2, autocomplete: "country", hint: "country.hint" },
  { name: "region", max: 3, autocomplete: "address-level1", hint: "region.hint" },
  { name: "taxId", max: 50 },
  { name: "contactName", max: 200, autocomplete: "name" },
];

export function visible(ctx) {
  return ctx.canManageBilling;
}

export async function render(root, ctx) {
  useStyles();
  const { data, errors } = await ctx.gql("BillingInfoSection");
  if (!data?.organization || isForbidden(errors, "billingInfo")) {
    const text = isForbidden(errors) ? ctx.t("forbidden") : problem(errors) || ctx.t("error.generic");
    root.append(ctx.h("p", { text }));
    return;
  }
  const info = data.organization.billingInfo || {};
  const status = ctx.h("div", { role: "status", id: "billing-info-status" });
  const form = ctx.h("form", { id: "billing-info-form", novalidate: true });
  for (const field of FIELDS) form.append(fieldFor(ctx, field, info[field.name] ?? ""));
  const submit = ctx.h("button", { type: "submit", class: "primary", text: ctx.t("save") });
  form.append(ctx.h("div", { class: "row" }, submit), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    clearInvalid(form);
    submit.disabled = true;
    try {
      await save(ctx, form, status);
    } finally {
      submit.disabled = false;
    }
  });
  root.append(ctx.h("p", { class: "hint", id: "billing-info-applies", text: ctx.t("applies") }), form);
}

function fieldFor(ctx, field, value) {
  const inputId = `billing-info-${field.name}`;
  const described = [field.hint ? `${inputId}-hint` : null, `${inputId}-error`].filter(Boolean).join(" ");
  return ctx.h(
    "div",
    { class: "field" },
    ctx.h(
      "label",
      { for: inputId },
      ctx.t(field.name),
      field.required ? ctx.h("span", { class: "hint", text: ` ${ctx.t("required")}` }) : null,
    ),
    ctx.h("input", {
      id: inputId,
      name: field.name,
      type: field.type || "text",
      value,
      maxlength: String(field.max),
      autocomplete: field.autocomplete || "off",
      required: field.required || false,
      "aria-required": field.required ? "true" : null,
      "aria-describedby": described,
    }),
    field.hint ? ctx.h("p", { class: "hint", id: `${inputId}-hint`, text: ctx.t(field.hint) }) : null,
    ctx.h("span", { class: "error", id: `${inputId}-error` }), // empty until the API refuses the value
  );
}

function clearInvalid(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  for (const message of form.querySelectorAll("span.error")) message.textContent = "";
}

async function save(ctx, form, status) {
  const input = {};
  for (const field of FIELDS) input[field.name] = form.elements[field.name].value.trim();
  const { data, errors } = await ctx.gql("UpdateBillingInfo", { input });
  const result = data?.updateBillingInfo;
  if (!result) {
    status.replaceChildren(alertText(ctx, problem(errors) || ctx.t("error.generic")));
    return;
  }
  if (result.__typename === "UserError") {
    const name = (result.field || "").replace(/^input\./, "");
    const input = FIELDS.some((f) => f.name === name) ? form.elements[name] : null;
    if (input) {
      input.setAttribute("aria-invalid", "true");
      document.getElementById(`${input.id}-error`).textContent = result.message;
      input.focus();
    } else {
      status.replaceChildren(alertText(ctx, result.message));
    }
    return;
  }
  status.replaceChildren(ctx.h("p", { class: "status-ok", text: ctx.t("saved") }));
  ctx.announce(ctx.t("saved"));
}
