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

/**
 * After a dialog over a panel closes: when the focus did not come back into the panel (the control
 * that opened the dialog is gone, e.g. with the error banner it was in), put it on `selector` there.
 * A modal panel left without focus stays hidden from screen readers.
 */
export function refocusWithin(panelSelector: string, selector: string, delayMs = 100): void {
  setTimeout(() => {
    const panel = document.querySelector(panelSelector);
    if (panel && !panel.contains(document.activeElement)) focusSoon(`${panelSelector} ${selector}`);
  }, delayMs);
}
