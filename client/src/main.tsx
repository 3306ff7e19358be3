import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { captureStaticShell } from './lib/static-shell';

// index.html's static shell is on screen already (its styles are linked there); the app takes its place.
captureStaticShell();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
