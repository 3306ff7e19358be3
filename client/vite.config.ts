import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const apiTarget = process.env.API_PROXY_TARGET ?? 'http://127.0.0.1:5000';
const hmrClientPort = process.env.VITE_HMR_CLIENT_PORT ? Number(process.env.VITE_HMR_CLIENT_PORT) : undefined;

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  server: {
    port: 5173,
    // Behind the edge nginx (docker-compose.dev.yml) the browser reaches HMR on the published port.
    hmr: hmrClientPort ? { clientPort: hmrClientPort } : undefined,
    // The proxy streams responses as they come, so `GET /api/events` (SSE) reaches the page unbuffered.
    proxy: {
      '/api': { target: apiTarget, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // The one lazy chunk (the detail page) needs nothing the entry has not loaded already, so the
    // modulepreload polyfill would only cost bytes of the 80 KB budget.
    modulePreload: false,
  },
  test: {
    name: 'client',
    root: import.meta.dirname,
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
  },
});
