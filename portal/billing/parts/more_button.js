// "Show more" under a paginated table (invoices, credit notes): asks the section's document for
// the page after `cursor`, appends its rows, moves the focus to the first new row, and goes once
// the last page is shown.
import { alertText, problem } from "./answers.js";

export function moreButton(ctx, { id, operation, connectionOf, rowOf }, body, status, cursor) {
  const button = ctx.h("button", {
    type: "button",
    id,
    text: ctx.t("more"),
    onclick: async () => {
      button.disabled = true;
      const { data, errors } = await ctx.gql(operation, { after: cursor });
      const connection = connectionOf(data);
      if (!connection) {
        status.replaceChildren(alertText(ctx, problem(errors) || ctx.t("error.generic")));
        button.disabled = false;
        return;
      }
      const rows = connection.edges.map((e) => rowOf(e.node));
      body.append(...rows);
      rows[0]?.querySelector("th")?.setAttribute("tabindex", "-1");
      rows[0]?.querySelector("th")?.focus();
      if (connection.pageInfo.hasNextPage) {
        cursor = connection.pageInfo.endCursor;
        button.disabled = false;
      } else {
        button.remove();
      }
    },
  });
  return ctx.h("div", { class: "row" }, button);
}
