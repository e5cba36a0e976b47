import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The embedded gateway serves dist/ at `/` and the API under /function/api (proxied in dev).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 800 },
  server: { port: 5173, proxy: { '/function': 'http://127.0.0.1:8080' } },
});
