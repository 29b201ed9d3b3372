// Amounts, dates and numbers for the page's language, with Intl. Money arrives in minor units
// (integers); it is turned into an exact decimal string for Intl, never a float.
const LOCALES = { en: "en-US", it: "it-IT" };

export function formatters(lang) {
  const locale = LOCALES[lang] || LOCALES.en;
  const numbers = new Intl.NumberFormat(locale);
  const dates = new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" });
  const currencies = new Map();
  function currency(code) {
    if (!currencies.has(code)) {
      currencies.set(code, new Intl.NumberFormat(locale, { style: "currency", currency: code }));
    }
    return currencies.get(code);
  }
  return {
    locale,
    money(money) {
      if (!money) return "";
      const format = currency(money.currency);
      const digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(decimalString(money.amount, digits));
    },
    date(iso) {
      return iso ? dates.format(new Date(iso)) : "";
    },
    number(n) {
      return n === null || n === undefined ? "" : numbers.format(n);
    },
  };
}

export function decimalString(minorUnits, digits) {
  const negative = minorUnits < 0;
  const text = String(Math.abs(minorUnits)).padStart(digits + 1, "0");
  const whole = text.slice(0, text.length - digits) || "0";
  const fraction = digits ? `.${text.slice(text.length - digits)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}
