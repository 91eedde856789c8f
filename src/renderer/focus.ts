/**
 * Puts the keyboard focus on an element that may not be rendered yet (e.g. the row of a
 * connection just added, which arrives with the next list event). Without this, focus falls to
 * the page or a toast when the control that opened a dialog disappears with it.
 */
export function focusSoon(selector: string, timeoutMs = 3000): void {
  const deadline = performance.now() + timeoutMs;
  const attempt = () => {
    const el = document.querySelector<HTMLElement>(selector);
    if (el) {
      el.focus();
      return;
    }
    if (performance.now() < deadline) requestAnimationFrame(attempt);
  };
  requestAnimationFrame(attempt);
}

export const ADD_BUTTON_SELECTOR = '[data-add-connection]';
export const detailsLinkSelector = (id: string) => `[data-connection="${CSS.escape(id)}"] [data-details-link]`;
