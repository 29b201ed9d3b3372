// English and Italian. The language comes from the browser, then from the switch (kept in
// localStorage); `t` looks in the section's messages, then the shell's.
export const LANGUAGES = ["en", "it"];
const STORED = "billing-gateway.lang";

export function initialLanguage() {
  const stored = localStorage.getItem(STORED);
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const lang = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(lang)) return lang;
  }
  return "en";
}

export function rememberLanguage(lang) {
  localStorage.setItem(STORED, lang);
}

export function translator(lang, ...catalogues) {
  return function t(key, params = {}) {
    for (const messages of catalogues) {
      const text = messages?.[lang]?.[key] ?? null;
      if (text !== null) return interpolate(text, params);
    }
    for (const messages of catalogues) {
      const text = messages?.en?.[key] ?? null;
      if (text !== null) return interpolate(text, params);
    }
    return key;
  };
}

function interpolate(text, params) {
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}
