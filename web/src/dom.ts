// Tiny DOM helpers: look-ups that fail loudly, and element building without innerHTML (no injection).

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`page is missing #${id}`);
  return found as T;
}

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

/** Shows a message in a box that is hidden while empty. */
export function show(box: HTMLElement, message: string | Node | null): void {
  box.replaceChildren(...(message === null ? [] : [message]));
  box.hidden = message === null;
}
