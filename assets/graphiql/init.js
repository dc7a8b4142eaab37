// Renders GraphiQL against the URL this page was served from (the GraphQL
// endpoint). A file rather than an inline script, so that the page's
// Content-Security-Policy can forbid inline scripts.
(function () {
  var endpoint = window.location.href.split('#')[0].split('?')[0];
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      defaultEditorToolsVisibility: true,
    })
  );
})();
