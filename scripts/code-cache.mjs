/**
 * The build half of scripts/code-cache-runtime.mjs (read its comment first): used by
 * bundle.mjs with `--code-cache`. For a package's entries it writes
 *   dist/<name>.body.cjs    every entry's code in one CommonJS-shaped bundle (esbuild),
 *                           its dynamic import()s turned into calls of `__d4Import`
 *                           and import.meta.url into `__d4ImportMetaUrl`;
 *   dist/<name>.loader.js   an ES module holding the runtime half, which imports the ES
 *                           packages the body imports, then runs the body once;
 *   dist/<entry>.js         for each entry, an ES stub re-exporting its names from the body,
 * so every entry of the package shares one copy of its classes, as with esbuild's chunks.
 * A package of one entry gets no loader file: its stub holds the loader. (Node's ES loader
 * costs about a millisecond a module.)
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const BUILTINS = new Set(builtinModules);

/**
 * `entries`: [{ in: 'src/index.ts', out: 'dist/index.js' }, …] (paths from the package
 * folder); `options`: esbuild options shared with the plain bundle (externals, plugins).
 */
export async function buildWithCodeCache(build, options, entries, bodyName) {
  const outdir = dirname(entries[0].out);
  const { banner: _esmOnly, ...shared } = options;
  const exportsOf = await entryExports(build, shared, entries);
  const bodyFile = join(outdir, `${bodyName}.body.cjs`);
  const result = await build({
    ...shared,
    stdin: {
      contents: entries.map((e, i) => `export * as e${i} from ${JSON.stringify('./' + e.in)};`).join('\n'),
      resolveDir: process.cwd(),
      sourcefile: `${bodyName}.body.ts`,
      loader: 'ts',
    },
    format: 'cjs',
    outfile: bodyFile,
    define: { 'import.meta.url': '__d4ImportMetaUrl' },
    metafile: true,
    write: false,
  });
  const meta = result.warnings.find((w) => w.text.includes('import.meta'));
  if (meta) throw new Error(`code-cache: ${meta.text} (${meta.location?.file}:${meta.location?.line}); only import.meta.url is carried into the body`);
  let body;
  for (const file of result.outputFiles) {
    if (file.path.endsWith('.map')) writeFileSync(file.path, file.text);
    else body = rewriteDynamicImports(file.text);
  }
  writeFileSync(bodyFile, body);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const loader = loaderSource(bodyName, hash, esModulesImported(result.metafile));
  if (entries.length === 1) {
    // One entry: the loader is the entry, one module fewer to resolve at every start.
    writeFileSync(entries[0].out, stubSource(entries[0], 0, exportsOf.get(entries[0].in), loader));
  } else {
    const loaderFile = join(outdir, `${bodyName}.loader.js`);
    writeFileSync(loaderFile, loader);
    entries.forEach((entry, i) => writeFileSync(entry.out, stubSource(entry, i, exportsOf.get(entry.in), importOf(entry, loaderFile))));
  }
  // Caches of an earlier build are for another body: they would only take space.
  rmSync(join(outdir, '.code-cache'), { recursive: true, force: true });
}

/** The names each entry exports, from an ES build that writes nothing. */
async function entryExports(build, options, entries) {
  const { metafile } = await build({ ...options, entryPoints: entries.map((e) => e.in), outdir: 'd4-code-cache-probe', splitting: true, metafile: true, write: false, sourcemap: false });
  const names = new Map();
  for (const output of Object.values(metafile.outputs)) if (output.entryPoint) names.set(output.entryPoint, output.exports);
  for (const e of entries) if (!names.has(e.in)) throw new Error(`code-cache: esbuild reported no exports for ${e.in}`);
  return names;
}

/**
 * `import(x)` in a script run by node:vm needs --experimental-vm-modules (or an option
 * Node 20 reports as experimental on stderr), so each becomes `__d4Import(x)`, which the
 * loader implements with its own import(): resolved from the same folder as the bundle's.
 * Found with TypeScript's parser, so that "import(" inside a string is left alone.
 */
function rewriteDynamicImports(text) {
  const source = ts.createSourceFile('body.cjs', text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const starts = [];
  const visit = (node) => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) starts.push(node.expression.getStart(source));
    ts.forEachChild(node, visit);
  };
  visit(source);
  let out = text;
  for (const start of starts.sort((a, b) => b - a)) out = out.slice(0, start) + '__d4Import' + out.slice(start + 'import'.length);
  return out;
}

/**
 * The body's static imports of ES packages: require() cannot load those in Node 20, so the
 * loader imports them first and hands them over. Built-ins and CommonJS packages are left
 * to require().
 */
function esModulesImported(metafile) {
  const specifiers = new Set();
  for (const input of Object.values(metafile.inputs)) {
    for (const imp of input.imports) {
      if (imp.external && imp.kind === 'import-statement' && !imp.path.startsWith('<') && !imp.path.startsWith('node:') && !BUILTINS.has(imp.path) && isEsPackage(imp.path)) specifiers.add(imp.path);
    }
  }
  return [...specifiers].sort();
}

function isEsPackage(specifier) {
  const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
    if (dirname(dir) === dir) throw new Error(`code-cache: cannot find the package ${name} (imported as ${specifier}) from ${process.cwd()}`);
  }
}

const RUNTIME = readFileSync(new URL('./code-cache-runtime.mjs', import.meta.url), 'utf8');

function loaderSource(bodyName, hash, esModules) {
  const imports = esModules.map((s, i) => `import * as m${i} from ${JSON.stringify(s)};`).join('\n');
  const table = esModules.map((s, i) => `[${JSON.stringify(s)}, m${i}]`).join(', ');
  return `// Generated by scripts/code-cache.mjs from scripts/code-cache-runtime.mjs: runs ${bodyName}.body.cjs once for every entry of this package.
${RUNTIME}
${imports}
const esModules = new Map([${table}]);
const importModule = (specifier, options) => (options === undefined ? import(specifier) : import(specifier, options));
export const body = runBody(new URL('./${bodyName}.body.cjs', import.meta.url), '${hash}', (id) => esModules.get(id) ?? nodeRequireForCache(id), importModule);
`;
}

/** The packages an entry re-exports with `export * from`, through its own modules' `export *`s. */
function externalStarExports(file, seen = new Set()) {
  if (seen.has(file)) return [];
  seen.add(file);
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found = [];
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || statement.exportClause || statement.isTypeOnly || !statement.moduleSpecifier) continue;
    const specifier = statement.moduleSpecifier.text;
    if (specifier.startsWith('.')) found.push(...externalStarExports(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')), seen));
    else found.push(specifier);
  }
  return [...new Set(found)];
}

/** The stub's import of the package's loader. */
function importOf(entry, loaderFile) {
  let from = relative(dirname(resolve(entry.out)), resolve(loaderFile)).split('\\').join('/');
  if (!from.startsWith('.')) from = './' + from;
  return `import { body } from ${JSON.stringify(from)};`;
}

/** `loader`: the import of the package's loader, or the loader itself. */
function stubSource(entry, index, names, loader) {
  const named = names.filter((n) => n !== 'default');
  const lines = [
    // A command's entry keeps its `#!` line (the CLI's dist/bin.js is run directly too).
    ...(readFileSync(entry.in, 'utf8').startsWith('#!') ? ['#!/usr/bin/env node'] : []),
    `// Generated by scripts/code-cache.mjs: the exports of ${entry.in}, from the package's body.`,
    loader,
    `const entry = body.e${index};`,
  ];
  if (named.length > 0) lines.push(`export const { ${named.join(', ')} } = entry;`);
  // esbuild cannot list what `export * from '<package>'` brings: the stub re-exports it
  // itself, which also keeps those bindings the package's own.
  for (const specifier of externalStarExports(entry.in)) lines.push(`export * from ${JSON.stringify(specifier)};`);
  if (names.includes('default')) lines.push('export default entry.default;');
  return lines.join('\n') + '\n';
}
