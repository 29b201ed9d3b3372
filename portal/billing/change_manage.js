// The "Manage" form of the change-plan section: seats, the contact-limit ladder (a slider over
// its steps, CAT-3, CHG-10, CHG-11) and add-ons (CAT-4) of one product line, previewed as one
// change. Its labels are the change section's messages (ctx.t).
import { openChange } from "./change_preview.js";
import { uid } from "../shared/dom.js";

export function manageForm(ctx, item, product, interval) {
  const { h, t } = ctx;
  const ladder = product.contactLimitLadder;
  const seatPrice = priceFor(product.seatPrices, interval);
  const plan = [...product.plans, ...product.bundles.flatMap((b) => b.plans)].find((p) => p.code === item.plan.code);
  const addOns = product.addOns;
  if (!ladder.length && !seatPrice && !addOns.length) return null;
  const fields = [];
  const wanted = {};
  if (ladder.length && item.contactLimit !== null) {
    const sliderId = uid("ladder");
    const start = Math.max(0, ladder.findIndex((step) => step.contactLimit === item.contactLimit));
    const describe = (index) => {
      const step = ladder[index];
      const price = priceFor(step.prices, interval);
      return price
        ? t("stepPrice", { count: ctx.number(step.contactLimit), amount: ctx.money(price), per: perText(ctx, interval) })
        : t("contacts", { count: ctx.number(step.contactLimit) });
    };
    const output = h("output", { for: sliderId, text: describe(start) });
    const slider = h("input", {
      type: "range",
      id: sliderId,
      name: "contactLimit",
      min: "0",
      max: String(ladder.length - 1),
      step: "1",
      value: String(start),
      "aria-valuetext": t("contacts", { count: ctx.number(ladder[start].contactLimit) }),
      oninput: (event) => {
        const index = Number(event.target.value);
        output.textContent = describe(index);
        event.target.setAttribute("aria-valuetext", t("contacts", { count: ctx.number(ladder[index].contactLimit) }));
      },
    });
    wanted.contactLimit = () => ladder[Number(slider.value)].contactLimit;
    fields.push(h("div", { class: "field" }, h("label", { for: sliderId, text: t("contactLimit") }), slider, output));
  }
  if (seatPrice && item.seats !== null) {
    const seatsId = uid("seats");
    const hints = [t("seatsHint", { included: ctx.number(plan?.seatsIncluded ?? 0), amount: ctx.money(seatPrice), per: perText(ctx, interval) })];
    if (plan?.maxSeats) hints.push(t("seatsMax", { max: ctx.number(plan.maxSeats) }));
    const hintId = uid("seats-hint");
    const input = h("input", {
      type: "number",
      id: seatsId,
      name: "seats",
      min: "1",
      max: plan?.maxSeats ? String(plan.maxSeats) : null,
      value: String(item.seats),
      "aria-describedby": hintId,
    });
    wanted.seats = () => Number(input.value);
    fields.push(h("div", { class: "field" }, h("label", { for: seatsId, text: t("seats") }), input, h("p", { class: "hint", id: hintId, text: hints.join(" ") })));
  }
  if (addOns.length) {
    const held = new Set(item.addOns.map((a) => a.code));
    const boxes = addOns.map((addOn) => {
      const boxId = uid("addon");
      const offered = (plan?.rank ?? 0) >= addOn.minPlanRank;
      const price = priceFor(addOn.prices, interval);
      const box = h("input", { type: "checkbox", id: boxId, value: addOn.code, checked: held.has(addOn.code), disabled: !offered && !held.has(addOn.code) });
      const label = offered && price
        ? t("addOnLabel", { name: addOn.name, amount: ctx.money(price), per: perText(ctx, interval) })
        : t("addOnNotOffered", { name: addOn.name });
      return { box, element: h("div", { class: "field inline" }, box, h("label", { for: boxId, text: label })) };
    });
    wanted.addOns = () => boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    fields.push(h("fieldset", {}, h("legend", { text: t("addOns") }), boxes.map((b) => b.element)));
  }
  const form = h(
    "form",
    {
      class: "manage",
      "aria-label": t("manage", { product: product.name }),
      onsubmit: (event) => {
        event.preventDefault();
        const input = { product: product.code };
        for (const [key, read] of Object.entries(wanted)) input[key] = read();
        openChange(ctx, input, { product: product.name, interval });
      },
    },
    h("h4", { text: t("manage", { product: product.name }) }),
    fields,
    h("button", { type: "submit", text: t("previewManage") }),
  );
  return form;
}


function priceFor(prices, interval) {
  return prices.find((price) => price.interval === interval)?.amount ?? null;
}

function perText(ctx, interval) {
  return ctx.t(`per.${interval}`);
}
