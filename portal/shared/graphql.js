// The page's GraphQL client: it sends only the persisted document's hash (ACC-6); the documents
// are portal/operations/*.graphql, compiled by `make operations` into the trusted manifest.
import { documents } from "./documents.js";

export class SessionEnded extends Error {}

export function graphqlClient(getToken, onSessionEnded) {
  return async function gql(operationName, variables = {}) {
    const sha256Hash = documents[operationName];
    if (!sha256Hash) throw new Error(`No persisted document named ${operationName}`);
    const response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${getToken()}`,
      },
      body: JSON.stringify({
        operationName,
        variables,
        extensions: { persistedQuery: { version: 1, sha256Hash } },
      }),
    });
    if (response.status === 401) {
      onSessionEnded();
      throw new SessionEnded("The session has ended.");
    }
    let body;
    try {
      body = await response.json();
    } catch {
      body = { errors: [{ message: `HTTP ${response.status}`, extensions: { code: "HTTP" } }] };
    }
    return { data: body.data ?? null, errors: body.errors ?? [] };
  };
}

// A field refused with FORBIDDEN comes back null with an error: sections show what they got.
export function forbidden(errors, field) {
  return errors.some(
    (e) => e.extensions?.code === "FORBIDDEN" && (!field || (e.path || []).includes(field)),
  );
}
