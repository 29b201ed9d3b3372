// Usage (USE-3, USE-6): the meters of a billing month against the plan's limits, on-demand blocks
// and their cost (billing roles only, ACC-3), the counts per workspace, earlier months, a chart
// of the last months and the CSV export fetched with the bearer token.
import { alertText, labelOr, problem, redraw, scrolling, useStyles } from "../parts/answers.js";
import { barChart } from "../parts/bar_chart.js";

export const id = "usage";

export { messages } from "../parts/usage_messages.js";

// Kept across redraws and the shell's refresh: the month and the chart's measure chosen.
const chosen = { month: "", series: "" };

export function visible() {
  return true; // counts are for every member (ACC-3); amounts only where the API returns them
}

export async function render(root, ctx) {
  useStyles();
  const { data, errors } = await ctx.gql("UsageSection", {
    month: chosen.month || null,
    billing: ctx.canManageBilling, // ACC-3: the on-demand cost only for billing roles
  });
  const organization = data?.organization;
  if (!organization) {
    root.append(alertText(ctx, problem(errors) || ctx.t("error.generic")));
    return;
  }
  const names = productNames(organization.subscription);
  const metricName = (meter) => labelOr(ctx, `metric.${meter.metric}`, meter.metric);
  if (!organization.subscription) {
    root.append(ctx.h("p", { text: ctx.t("empty") }));
    return;
  }
  root.append(monthPicker(root, ctx, organization.usageHistory));
  const failure = problem(errors);
  if (failure) root.append(alertText(ctx, failure));
  root.append(metersTable(ctx, organization.usage, names, metricName));
  root.append(workspaceTable(ctx, organization.usageByWorkspace, names, metricName));
  root.append(chartOf(root, ctx, organization, names, metricName));
  root.append(csvDownload(ctx, organization.usageHistory));
}

function productNames(subscription) {
  const names = {};
  for (const item of subscription?.items || []) names[item.product.code] = item.product.name;
  return names;
}

function monthPicker(root, ctx, history) {
  const select = ctx.h(
    "select",
    {
      id: "usage-month",
      onchange: (event) => {
        chosen.month = event.target.value;
        redraw(root, ctx, render, "usage-month");
      },
    },
    history.map((month, index) =>
      ctx.h("option", {
        value: index === 0 ? "" : month.month,
        selected: (index === 0 ? "" : month.month) === chosen.month,
        text: ctx.t(index === 0 ? "month.current" : "month.earlier", { date: ctx.date(month.periodStart) }),
      }),
    ),
  );
  return ctx.h("div", { class: "field inline" }, ctx.h("label", { for: "usage-month", text: ctx.t("month.label") }), select);
}

function metersTable(ctx, meters, names, metricName) {
  // On-demand figures are for billing roles (ACC-3): not asked for a member, columns omitted.
  const blocks = meters.some((m) => m.onDemandBlocks !== null && m.onDemandBlocks !== undefined);
  const cost = meters.some((m) => m.onDemandCost);
  const head = [
    ctx.t("col.product"),
    ctx.t("col.metric"),
    ctx.t("col.used"),
    ctx.t("col.limit"),
    ctx.t("col.percent"),
    ...(blocks ? [ctx.t("col.blocks")] : []),
    ...(cost ? [ctx.t("col.cost")] : []),
  ];
  const rows = meters.map((meter) => {
    const metric = metricName(meter);
    return ctx.h(
      "tr",
      { "data-metric": `${meter.product}/${meter.metric}` },
      ctx.h("td", { text: names[meter.product] || meter.product }),
      ctx.h("th", { scope: "row", text: metric }),
      ctx.h("td", { class: "amount", text: ctx.number(meter.used) }),
      ctx.h("td", { class: "amount", text: meter.limit === null ? ctx.t("unlimited") : ctx.number(meter.limit) }),
      ctx.h("td", {}, percentOf(ctx, meter, metric)),
      blocks ? ctx.h("td", { class: "amount", text: ctx.number(meter.onDemandBlocks) }) : null,
      cost ? ctx.h("td", { class: "amount", text: meter.onDemandCost ? ctx.money(meter.onDemandCost) : "" }) : null,
    );
  });
  const table = ctx.h(
      "table",
      { class: "usage-meters" },
      ctx.h("caption", { class: "visually-hidden", text: ctx.t("meters.caption") }),
      ctx.h("thead", {}, ctx.h("tr", {}, head.map((text) => ctx.h("th", { scope: "col", text })))),
      ctx.h("tbody", {}, rows),
    );
  return ctx.h("div", {}, scrolling(ctx, table), ctx.h("p", { class: "hint", text: ctx.t("limits.note") }));
}

function percentOf(ctx, meter, metric) {
  if (meter.percent === null || meter.limit === null) return "";
  const text = ctx.t(meter.percent > 100 ? "percent.over" : "percent.value", { percent: ctx.number(meter.percent) });
  return ctx.h(
    "span",
    { class: "row" },
    ctx.h("progress", {
      max: 100,
      value: Math.min(meter.percent, 100),
      "aria-label": ctx.t("percent.bar", { metric, percent: ctx.number(meter.percent) }),
    }),
    ctx.h("span", { text }),
  );
}

function workspaceTable(ctx, readings, names, metricName) {
  const section = ctx.h("div", { id: "usage-workspaces" }, ctx.h("h3", { text: ctx.t("workspaces.title") }));
  if (!readings.length) {
    section.append(ctx.h("p", { text: ctx.t("workspaces.none") }));
    return section;
  }
  const columns = [];
  const seen = new Set();
  for (const r of readings) {
    const key = `${r.product}/${r.metric}`;
    if (!seen.has(key)) {
      seen.add(key);
      columns.push({ key, label: `${metricName(r)} (${names[r.product] || r.product})` });
    }
  }
  const rows = new Map();
  for (const r of readings) {
    const key = r.workspace ?? "";
    if (!rows.has(key)) rows.set(key, { reading: r, values: {} });
    rows.get(key).values[`${r.product}/${r.metric}`] = r.used;
  }
  const label = (r) => {
    if (r.workspace === null) return ctx.t("workspace.unassigned");
    const name = r.name || r.workspace;
    return r.archived ? ctx.t("workspace.archived", { name }) : name;
  };
  section.append(scrolling(ctx,
    ctx.h(
      "table",
      {},
      ctx.h("caption", { class: "visually-hidden", text: ctx.t("workspaces.caption") }),
      ctx.h(
        "thead",
        {},
        ctx.h(
          "tr",
          {},
          ctx.h("th", { scope: "col", text: ctx.t("col.workspace") }),
          columns.map((c) => ctx.h("th", { scope: "col", class: "amount", text: c.label })),
        ),
      ),
      ctx.h(
        "tbody",
        {},
        [...rows.values()].map(({ reading, values }) =>
          ctx.h(
            "tr",
            { "data-workspace": reading.workspace ?? "" },
            ctx.h("th", { scope: "row", text: label(reading) }),
            columns.map((c) => ctx.h("td", { class: "amount", text: ctx.number(values[c.key] ?? 0) })),
          ),
        ),
      ),
    ),
  ));
  return section;
}

function chartOf(root, ctx, organization, names, metricName) {
  const meters = organization.usage;
  if (!meters.length) return null;
  const keys = meters.map((m) => `${m.product}/${m.metric}`);
  if (!keys.includes(chosen.series)) chosen.series = keys[0];
  const meter = meters.find((m) => `${m.product}/${m.metric}` === chosen.series);
  const label = (m) => `${metricName(m)} (${names[m.product] || m.product})`;
  const short = new Intl.DateTimeFormat(ctx.locale, { month: "short", year: "2-digit", timeZone: "UTC" });
  const points = [...organization.usageHistory].reverse().map((month) => ({
    label: ctx.date(month.periodStart),
    short: short.format(new Date(month.periodStart)),
    value: month.counts.find((c) => c.product === meter.product && c.metric === meter.metric)?.used ?? 0,
  }));
  const { chart, table } = barChart(ctx, {
    id: "usage-chart",
    title: ctx.t("chart.caption", { metric: label(meter) }),
    points,
    limit: meter.limit,
    limitLabel: meter.limit === null ? "" : ctx.t("chart.limit", { limit: ctx.number(meter.limit) }),
    labelHeader: ctx.t("chart.month"),
    valueHeader: ctx.t("chart.value"),
  });
  const select = ctx.h(
    "select",
    {
      id: "usage-series",
      onchange: (event) => {
        chosen.series = event.target.value;
        redraw(root, ctx, render, "usage-series");
      },
    },
    meters.map((m) =>
      ctx.h("option", { value: `${m.product}/${m.metric}`, selected: `${m.product}/${m.metric}` === chosen.series, text: label(m) }),
    ),
  );
  return ctx.h(
    "div",
    { id: "usage-history" },
    ctx.h("h3", { text: ctx.t("chart.title") }),
    ctx.h("div", { class: "field inline" }, ctx.h("label", { for: "usage-series", text: ctx.t("chart.metric") }), select),
    chart,
    ctx.h("details", {}, ctx.h("summary", { text: ctx.t("chart.data") }), table),
  );
}

function csvDownload(ctx, history) {
  const status = ctx.h("p", { class: "error", role: "alert" });
  const month = chosen.month || history[0]?.month || "";
  const button = ctx.h("button", {
    type: "button",
    id: "usage-csv",
    "aria-describedby": "usage-csv-hint",
    text: ctx.t("csv.download"),
    onclick: async () => {
      status.textContent = "";
      button.disabled = true;
      try {
        await ctx.download(`/usage.csv?month=${encodeURIComponent(month)}`, `usage-${month}.csv`);
      } catch (error) {
        status.textContent = ctx.t("csv.failed", { reason: error.message });
      } finally {
        button.disabled = false;
      }
    },
  });
  return ctx.h(
    "div",
    {},
    ctx.h("div", { class: "row" }, button),
    ctx.h("p", { class: "hint", id: "usage-csv-hint", text: ctx.t("csv.hint") }),
    status,
  );
}
