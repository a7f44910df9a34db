/** Bundles an entry the way an application would (ESM, minified, tree-shaken) and measures it. */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleSize {
  code: Uint8Array;
  minified: number;
  gzipped: number;
}

export async function measureBundle(entry: string, external: string[] = []): Promise<BundleSize> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external,
    write: false,
    loader: { '.css': 'empty' },
  });
  const code = result.outputFiles[0]!.contents;
  return { code, minified: code.byteLength, gzipped: gzipSync(code).byteLength };
}
