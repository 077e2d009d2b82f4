// Builds the planner's decision-table editor (React + @gorules/jdm-editor) into one lazily loaded module.
// Output goes to web/static/planner/dist (gitignored; `make run` / `make test` rebuild it when sources change).
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  plugins: [react()],
  // Library mode leaves process.env alone; React reads it to pick its production build.
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  base: "/static/planner/dist/",
  build: {
    outDir: here("../static/planner/dist"),
    emptyOutDir: true,
    chunkSizeWarningLimit: 10000,
    sourcemap: false,
    lib: {
      entry: here("src/editor.jsx"),
      formats: ["es"],
      fileName: () => "editor.js",
      cssFileName: "editor",
    },
  },
});
