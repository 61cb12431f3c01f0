/**
 * A module loaded on first use instead of at start (docs/ARCHITECTURE.md, "Footprint"):
 *
 *   type PdfLib = typeof import('pdf-lib');
 *   const pdfLib = lazyModule((): Promise<PdfLib> => import('pdf-lib'));
 *   ...
 *   const { PDFDocument } = await pdfLib();
 *
 * The first call starts the import and every later call shares it, so the module is evaluated
 * once and the first use pays its load. A failed load is not remembered: the next call tries
 * again (Node caches a module that loaded, not one that failed to resolve). Only `import type`
 * may name the package elsewhere in the file, or the static import would load it at start again
 * (test/footprint.test.ts checks what a started server has loaded).
 */
export function lazyModule<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}
