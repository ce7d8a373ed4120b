// Approval pages: show a refused or conflicting decision (403, 409) in the #decision
// section instead of dropping it, as htmx does for error responses by default.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  const status = event.detail.xhr.status;
  if (target && target.id === "decision" && (status === 403 || status === 409)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
