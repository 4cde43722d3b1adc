// Builds the admin page into portal/dist, which the service serves at /portal (src/server.ts).
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/portal/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  oxc: { jsx: { runtime: 'automatic' } },
  logLevel: 'warn',
});
