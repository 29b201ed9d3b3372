// Starts GraphiQL against the page's own URL (/graphql); no script comes from elsewhere.
(function () {
  'use strict';
  var url = window.location.origin + window.location.pathname;
  var defaultQuery = [
    '# Most fields need a token: add it under Headers as',
    '#   {"Authorization": "Bearer <token>"}',
    '# Sandbox: billing-gateway token billing@acme.test',
    '',
    '{',
    '  __typename',
    '}',
    '',
  ].join('\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: url }),
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
  );
})();
