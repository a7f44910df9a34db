/**
 * A browser page (happy-dom) for test files that also run the real server
 * in-process. `// @vitest-environment happy-dom` cannot serve them: it
 * transforms every module for the browser, so `ws` resolves to its browser
 * stub and the server's `new URL('./migrations/', import.meta.url)` becomes
 * an asset URL; it also swaps Node's fetch, URL and AbortController for the
 * page's. Imported first, this adds the page's DOM globals and nothing else.
 */
import { GlobalWindow } from 'happy-dom';
import { afterAll } from 'vitest';
import { populateGlobal } from 'vitest/runtime';

const page = new GlobalWindow({ url: 'http://localhost:3000', console: globalThis.console });
const { keys, originals } = populateGlobal(globalThis, page, { bindFunctions: true });

afterAll(async () => {
  await page.happyDOM.abort();
  page.close();
  const global = globalThis as Record<string, unknown>;
  for (const key of keys) delete global[key];
  for (const [key, value] of originals) global[key as string] = value;
});
