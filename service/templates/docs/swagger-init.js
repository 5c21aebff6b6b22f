// Starts Swagger UI on this service's own openapi.yaml. Kept out of the page so the CSP needs no inline script.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    // BaseLayout has no top bar, so the page cannot be pointed at another document.
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    // null: no badge fetched from the public validator, the page stays offline.
    validatorUrl: null,
    displayRequestDuration: true,
    tryItOutEnabled: false
  });
});
