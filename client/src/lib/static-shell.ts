/**
 * index.html paints a static copy of the header and the form, so the page shows before the script
 * has arrived. What a person did with that copy is carried into the app: text typed into it, and an
 * index submitted with it before the script ran (the plain form sends `/?index=…`).
 */
export interface TypedBeforeStart {
  text: string;
  focused: boolean;
}

let typed: TypedBeforeStart = { text: '', focused: false };

/** Reads the static form before the app replaces it; call once, before the first render. */
export function captureStaticShell(): void {
  const input = document.getElementById('index-input');
  const url = new URL(window.location.href);
  const submitted = url.searchParams.get('index');
  if (submitted !== null) {
    url.searchParams.delete('index');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    typed = { text: submitted, focused: true };
  } else if (input instanceof HTMLInputElement) {
    typed = { text: input.value, focused: document.activeElement === input };
  }
}

/** What the form should start with; `forget` once used, so a later visit of the form starts empty. */
export function typedBeforeStart(): TypedBeforeStart {
  return typed;
}

export function forgetTypedBeforeStart(): void {
  typed = { text: '', focused: false };
}
