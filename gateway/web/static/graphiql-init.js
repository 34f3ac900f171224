// GraphiQL at /graphql, from the gateway's own files (strawberry's page, without its
// inline script and without anything from a CDN). Queries go to this very address; live
// updates over the WebSocket on the same path.
(function () {
  "use strict";
  var EXAMPLE_QUERY = [
    "# Lotse GraphQL API. Ctrl-Enter runs the query.",
    "# Sign in with the signIn mutation and send the access token as a header:",
    '#   {"Authorization": "Bearer <accessToken>"}',
    "",
    "{",
    '  actors(query: "wohnung", first: 5) {',
    "    totalCount",
    "    edges { node { name slug kind } }",
    "  }",
    "}",
    "",
  ].join("\n");

  var parameters = {};
  window.location.search.slice(1).split("&").forEach(function (entry) {
    var eq = entry.indexOf("=");
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
    }
  });

  function updateURL(data) {
    Object.assign(parameters, data);
    var search = "?" + Object.keys(parameters)
      .filter(function (key) { return Boolean(parameters[key]); })
      .map(function (key) { return encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]); })
      .join("&");
    history.replaceState(null, "", search);
  }

  var fetchURL = window.location.origin + window.location.pathname;
  var socketURL = new URL(fetchURL);
  socketURL.protocol = socketURL.protocol === "https:" ? "wss:" : "ws:";

  var fetcher = GraphiQL.createFetcher({ url: fetchURL, subscriptionUrl: socketURL.toString() });

  function GraphiQLWithExplorer() {
    var state = React.useState(parameters.q || EXAMPLE_QUERY);
    var variables = React.useState(parameters.variables);
    var headers = React.useState(parameters.headers);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [GraphiQLPluginExplorer.explorerPlugin()],
      query: state[0],
      variables: variables[0],
      headers: headers[0],
      onEditQuery: function (q) { state[1](q); updateURL({ q: q }); },
      onEditVariables: function (v) { variables[1](v); updateURL({ variables: v }); },
      onEditHeaders: function (h) { headers[1](h); },
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    });
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(GraphiQLWithExplorer));
})();
