// An accessible modal: <dialog> opened with showModal (the rest of the page is inert), Tab and
// Shift+Tab kept inside, Escape closes, focus returns where it was.
import { h, uid } from "./dom.js";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

// actions: [{ id, label, primary?, danger?, onSelect?: async () => boolean | void }]
// onSelect returning false keeps the dialog open (e.g. a required field is empty).
// Resolves with the chosen action's id, or null when dismissed.
export function openDialog({ title, body, actions = [], closeLabel = "Close" }) {
  return new Promise((resolve) => {
    const returnTo = document.activeElement;
    const titleId = uid("dialog-title");
    const error = h("p", { class: "dialog-error", role: "alert" });
    const buttons = actions.map((action) =>
      h("button", {
        type: "button",
        class: action.primary ? "primary" : action.danger ? "danger" : "",
        "data-action": action.id,
        text: action.label,
        onclick: async (event) => {
          const button = event.currentTarget;
          error.textContent = "";
          if (action.onSelect) {
            button.disabled = true;
            let keepOpen = false;
            try {
              keepOpen = (await action.onSelect({ setError: (m) => (error.textContent = m) })) === false;
            } catch (failure) {
              error.textContent = String(failure.message || failure);
              keepOpen = true;
            } finally {
              button.disabled = false;
            }
            if (keepOpen) return;
          }
          finish(action.id);
        },
      }),
    );
    const close = h("button", {
      type: "button",
      class: "dialog-close",
      "aria-label": closeLabel,
      text: "×",
      onclick: () => finish(null),
    });
    const dialog = h(
      "dialog",
      { class: "dialog", "aria-labelledby": titleId, "aria-modal": "true" },
      h("div", { class: "dialog-head" }, h("h2", { id: titleId, text: title }), close),
      h("div", { class: "dialog-body" }, body),
      error,
      h("div", { class: "dialog-actions" }, buttons),
    );
    let finished = false;
    function finish(value) {
      if (finished) return;
      finished = true;
      dialog.close();
      dialog.remove();
      if (returnTo && typeof returnTo.focus === "function" && returnTo.isConnected) returnTo.focus();
      resolve(value);
    }
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(null);
    });
    dialog.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((e) => e.offsetParent !== null);
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    const initial = dialog.querySelector("[autofocus]") || dialog.querySelector(".dialog-body " + FOCUSABLE) || buttons[0] || close;
    initial.focus();
  });
}
