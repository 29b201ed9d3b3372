// A bar chart drawn as inline SVG (no chart library: a handful of rectangles and labels), with
// its numbers also given as a table for screen readers and anyone who prefers them.
// points: [{label, value}] oldest first; limit: a number drawn as a dashed line, or null.
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 240;
const PAD = { top: 16, right: 16, bottom: 44, left: 16 };

function svg(tag, attributes = {}, text = null) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

export function barChart(ctx, { id, title, points, limit, limitLabel, valueHeader, labelHeader }) {
  const top = Math.max(1, limit || 0, ...points.map((p) => p.value));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(1, points.length);
  const barWidth = Math.min(56, slot * 0.6);
  const y = (value) => PAD.top + plotHeight - (value / top) * plotHeight;
  const titleId = `${id}-title`;
  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    width: "100%",
    role: "img",
    "aria-labelledby": titleId,
    class: "usage-chart",
  });
  chart.append(svg("title", { id: titleId }, title));
  chart.append(
    svg("line", {
      x1: PAD.left,
      x2: WIDTH - PAD.right,
      y1: y(0),
      y2: y(0),
      stroke: "#4a5263",
    }),
  );
  points.forEach((point, index) => {
    const x = PAD.left + slot * index + (slot - barWidth) / 2;
    const height = y(0) - y(point.value);
    chart.append(
      svg("rect", {
        x,
        y: y(point.value),
        width: barWidth,
        height: Math.max(height, point.value ? 1 : 0),
        fill: "#1f4fd1",
      }),
    );
    chart.append(
      svg(
        "text",
        { x: x + barWidth / 2, y: Math.max(12, y(point.value) - 4), "text-anchor": "middle", "font-size": 12, fill: "#1d2330" },
        ctx.number(point.value),
      ),
    );
    chart.append(
      svg(
        "text",
        { x: x + barWidth / 2, y: HEIGHT - PAD.bottom + 18, "text-anchor": "middle", "font-size": 12, fill: "#1d2330" },
        point.short,
      ),
    );
  });
  if (limit) {
    chart.append(
      svg("line", {
        x1: PAD.left,
        x2: WIDTH - PAD.right,
        y1: y(limit),
        y2: y(limit),
        stroke: "#a4161a",
        "stroke-dasharray": "6 4",
      }),
    );
    chart.append(
      svg("text", { x: WIDTH - PAD.right, y: y(limit) - 4, "text-anchor": "end", "font-size": 12, fill: "#a4161a" }, limitLabel),
    );
  }
  const table = ctx.h(
    "table",
    { class: "chart-data" },
    ctx.h("caption", { class: "visually-hidden", text: title }),
    ctx.h(
      "thead",
      {},
      ctx.h("tr", {}, ctx.h("th", { scope: "col", text: labelHeader }), ctx.h("th", { scope: "col", class: "amount", text: valueHeader })),
    ),
    ctx.h(
      "tbody",
      {},
      points.map((p) =>
        ctx.h("tr", {}, ctx.h("th", { scope: "row", text: p.label }), ctx.h("td", { class: "amount", text: ctx.number(p.value) })),
      ),
    ),
  );
  return { chart, table };
}
