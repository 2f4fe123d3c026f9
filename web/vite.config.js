// The portal builds to web/dist, which the node serves at / (api.portal_dir
// or `carechain node --portal`).
import { defineConfig } from 'vite';

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
});
