// @ts-check
/**
 * osls plugin: builds each function's zip itself, so that what Lambda runs is exactly
 *
 *   functions/<name>.mjs           the handler bundled by esbuild (our code, the AWS SDK, Powertools, zod, …)
 *   node_modules/<external>/…      the packages esbuild must leave out, with their dependencies: DuckDB
 *                                  (`@duckdb/node-api` → `@duckdb/node-bindings` → the native binding,
 *                                  a `.node` addon plus `libduckdb.so`, which no bundler can inline),
 *                                  with only the binding built for the function's architecture
 *   keytrail.config.<ext>          the configuration file, when there is one (KEYTRAIL_CONFIG points at it)
 *
 * and hands each zip to osls as the function's `package.artifact` (osls then skips its own
 * pattern-based packaging for that function). Nothing is fetched: the native binding must already be
 * in node_modules, which `npm ci` does for the machine's own architecture.
 *
 * Why not serverless-esbuild: it installs external modules with `npm install` in its build directory,
 * which needs the registry at package time and installs the binding of the machine that packages,
 * not of the Lambda architecture.
 *
 * Settings (`custom.bundle` in serverless.yml):
 *   external       package names to ship as node_modules instead of bundling
 *   configFile     the configuration file to bundle; '' = keytrail.config.json|yaml|yml in the service
 *                  directory if present (the CLI's own rule), else none and the defaults apply
 *   configLoader   module exporting `findConfigFile` and `loadConfig` (src/config/loader.ts): the file
 *                  is found and validated at package time with the same code the functions run
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Lambda's limit on a function's unzipped code, layers included (bytes). */
export const LAMBDA_UNZIPPED_LIMIT = 262_144_000;

/** Where Lambda unpacks a function's zip (LAMBDA_TASK_ROOT). */
const TASK_ROOT = '/var/task';

/** Lambda architecture → Node's `process.arch`, as npm's `cpu` field spells it. */
const CPU_BY_ARCHITECTURE = { x86_64: 'x64', arm64: 'arm64' };

/** Lambda's Node runtimes are Amazon Linux with glibc. */
const LAMBDA_OS = 'linux';
const LAMBDA_LIBC = 'glibc';

/** Files of shipped packages that nothing loads at run time. */
const SKIPPED_FILE = /\.(d\.ts|d\.mts|d\.cts|map|md|markdown)$/i;

/**
 * The bundle is ESM (handlers use top-level await); CommonJS dependencies inside it still call
 * `require` for Node built-ins, which ESM does not define.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __keytrailCreateRequire } from 'node:module'; const require = __keytrailCreateRequire(import.meta.url);";

export default class KeytrailBundlePlugin {
  /**
   * @param {any} serverless
   * @param {Record<string, any>} options
   * @param {{ log: any }} utils
   */
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options;
    this.log = utils.log;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.packageFunctions(this.serverless.service.getAllFunctions()),
      // `osls deploy function -f <name>` packages one function.
      'before:package:function:package': () => this.packageFunctions([this.options.function]),
    };
  }

  /** @param {string} message */
  error(message) {
    return new this.serverless.classes.Error(message);
  }

  /** @param {string[]} names */
  async packageFunctions(names) {
    const serviceDir = this.serverless.serviceDir;
    const settings = this.serverless.service.custom?.bundle ?? {};
    const external = /** @type {string[]} */ (settings.external ?? []);
    const work = mkdtempSync(join(tmpdir(), 'keytrail-bundle-'));
    try {
      const config = await this.findConfig(serviceDir, work, settings);
      const functions = names.map((name) => {
        const fn = this.serverless.service.getFunction(name);
        const architecture = fn.architecture ?? this.serverless.service.provider.architecture ?? 'x86_64';
        const runtime = fn.runtime ?? this.serverless.service.provider.runtime;
        return { name, fn, architecture, runtime, entry: this.handlerEntry(serviceDir, name, fn.handler) };
      });
      const packagesByArchitecture = new Map();
      for (const architecture of new Set(functions.map((f) => f.architecture))) {
        packagesByArchitecture.set(architecture, this.externalClosure(serviceDir, external, architecture));
      }
      const bundleDir = join(work, 'bundle');
      for (const runtime of new Set(functions.map((f) => f.runtime))) {
        const group = functions.filter((f) => f.runtime === runtime);
        const shipped = new Set(group.flatMap((f) => [...packagesByArchitecture.get(f.architecture).keys()]));
        await this.bundle(serviceDir, bundleDir, runtime, group.map((f) => f.entry), [...shipped, ...external]);
      }

      const packager = this.serverless.pluginManager.plugins.find((/** @type {any} */ p) => p.constructor?.name === 'Package');
      if (!packager || typeof packager.zipFiles !== 'function') throw this.error('bundle-plugin: osls Package plugin (zipFiles) not found');
      for (const { name, fn, architecture, entry } of functions) {
        const root = join(work, 'functions', name);
        mkdirSync(join(root, dirname(entry.out)), { recursive: true });
        copyFileSync(join(bundleDir, `${entry.out}.mjs`), join(root, `${entry.out}.mjs`));
        for (const [pkg, dir] of packagesByArchitecture.get(architecture)) {
          mkdirSync(dirname(join(root, 'node_modules', pkg)), { recursive: true });
          symlinkSync(dir, join(root, 'node_modules', pkg), 'dir');
        }
        if (config) {
          copyFileSync(config.source, join(root, config.name));
          fn.environment = { ...fn.environment, KEYTRAIL_CONFIG: `${TASK_ROOT}/${config.name}` };
        }
        const files = listFiles(root);
        const bundleBytes = statSync(join(root, `${entry.out}.mjs`)).size;
        const unzippedBytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
        if (unzippedBytes > LAMBDA_UNZIPPED_LIMIT) {
          throw this.error(`${name}: ${mb(unzippedBytes)} MiB unzipped is over Lambda's ${mb(LAMBDA_UNZIPPED_LIMIT)} MiB limit`);
        }
        const artifact = await packager.zipFiles(files, `${name}.zip`, root);
        fn.package = { ...fn.package, artifact };
        this.log.info(
          `${name}: ${entry.out}.mjs ${mb(bundleBytes)} MiB + ${[...packagesByArchitecture.get(architecture).keys()].join(', ')}` +
            `${config ? ` + ${config.name}` : ''} = ${mb(unzippedBytes)} MiB unzipped (${architecture})`,
        );
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /**
   * `functions/ingest-events.handler` → source `functions/ingest-events.ts` (or .mts/.js/.mjs), bundled
   * to `functions/ingest-events.mjs`, which is what Lambda loads for that handler string.
   * @param {string} serviceDir @param {string} name @param {string} handler
   */
  handlerEntry(serviceDir, name, handler) {
    const out = handler.slice(0, handler.lastIndexOf('.'));
    const candidates = ['.ts', '.mts', '.js', '.mjs'].map((ext) => `${out}${ext}`);
    const source = candidates.find((file) => exists(join(serviceDir, file)));
    if (!source) throw this.error(`${name}: handler "${handler}" needs ${candidates.join(' or ')}, and none exists`);
    return { in: join(serviceDir, source), out };
  }

  /**
   * @param {string} serviceDir @param {string} outdir @param {string} runtime
   * @param {{ in: string, out: string }[]} entryPoints @param {string[]} external
   */
  async bundle(serviceDir, outdir, runtime, entryPoints, external) {
    const target = /^nodejs(\d+)\.x$/.exec(runtime ?? '')?.[1];
    if (!target) throw this.error(`bundle-plugin: runtime "${runtime}" is not a nodejsNN.x runtime`);
    await build({
      absWorkingDir: serviceDir,
      entryPoints,
      outdir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${target}`,
      outExtension: { '.js': '.mjs' },
      // Prefer dependencies' ESM builds: they tree-shake (the AWS SDK in particular).
      mainFields: ['module', 'main'],
      external: external.flatMap((name) => [name, `${name}/*`]),
      banner: { js: ESM_REQUIRE_BANNER },
      // Unminified, so that stack traces in CloudWatch name real functions and lines.
      minify: false,
      sourcemap: false,
      legalComments: 'eof',
      logLevel: 'warning',
    });
  }

  /**
   * The packages to ship for `roots` on Lambda (linux, `architecture`, glibc), name → real directory:
   * the roots, their dependencies, and those optional dependencies built for that platform. A
   * platform package that npm did not install (another architecture than this machine's) is an error
   * that says how to get it.
   * @param {string} serviceDir @param {string[]} roots @param {string} architecture
   * @returns {Map<string, string>}
   */
  externalClosure(serviceDir, roots, architecture) {
    const cpu = CPU_BY_ARCHITECTURE[/** @type {keyof typeof CPU_BY_ARCHITECTURE} */ (architecture)];
    if (!cpu) throw this.error(`bundle-plugin: architecture "${architecture}" is not one of ${Object.keys(CPU_BY_ARCHITECTURE).join(', ')}`);
    /** @type {Map<string, string>} */
    const found = new Map();
    /** @type {{ name: string, from: string, version?: string, optional: boolean }[]} */
    const queue = roots.map((name) => ({ name, from: serviceDir, optional: false }));
    while (queue.length > 0) {
      const next = /** @type {(typeof queue)[number]} */ (queue.shift());
      if (found.has(next.name)) continue;
      const dir = findPackageDir(serviceDir, next.from, next.name);
      if (dir === null) {
        if (!next.optional) throw this.error(`bundle-plugin: ${next.name} is not installed (run npm ci)`);
        // A platform package is absent from node_modules when npm skipped it for this machine's
        // platform; only the one Lambda needs matters. Its package.json is not there to read, so
        // recognise it by the platform names in its package name (DuckDB's naming).
        if (next.name.includes(LAMBDA_OS) && next.name.includes(cpu) && !next.name.includes('musl')) {
          throw this.error(
            `bundle-plugin: ${next.name} (the ${architecture} Lambda build of a native dependency) is not in node_modules: ` +
              `npm installs only this machine's platform. Run: npm install --no-save --force ${next.name}@${next.version}`,
          );
        }
        continue;
      }
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (next.optional && !runsOnLambda(manifest, cpu)) continue;
      found.set(next.name, dir);
      for (const [name, version] of Object.entries(manifest.dependencies ?? {})) queue.push({ name, from: dir, version, optional: false });
      for (const [name, version] of Object.entries(manifest.optionalDependencies ?? {})) queue.push({ name, from: dir, version, optional: true });
    }
    return found;
  }

  /**
   * The configuration file to bundle, found and validated by keytrail's own loader (so a bad file
   * fails the package, not every invocation), or null when there is none.
   * @param {string} serviceDir @param {string} work @param {Record<string, any>} settings
   * @returns {Promise<{ source: string, name: string } | null>}
   */
  async findConfig(serviceDir, work, settings) {
    if (!settings.configLoader) return null;
    const loaderOut = join(work, 'config-loader.mjs');
    await build({
      absWorkingDir: serviceDir,
      stdin: { contents: `export { findConfigFile, loadConfig } from './${settings.configLoader}';`, resolveDir: serviceDir, loader: 'ts' },
      outfile: loaderOut,
      bundle: true,
      platform: 'node',
      format: 'esm',
      mainFields: ['module', 'main'],
      banner: { js: ESM_REQUIRE_BANNER },
      logLevel: 'warning',
    });
    const loader = await import(pathToFileURL(loaderOut).href);
    // The deployer's own KEYTRAIL_* variables must not change what gets bundled.
    const options = { cwd: serviceDir, env: {}, ...(settings.configFile ? { path: resolve(serviceDir, settings.configFile) } : {}) };
    let source;
    try {
      source = loader.findConfigFile(options);
      if (source === null) return null;
      await loader.loadConfig(options);
    } catch (error) {
      throw this.error(`configuration: ${/** @type {Error} */ (error).message}`);
    }
    const ext = extname(source).toLowerCase();
    if (!['.json', '.yaml', '.yml'].includes(ext)) throw this.error(`configuration: ${source}: must be .json, .yaml or .yml`);
    this.log.info(`bundling configuration ${relative(serviceDir, source) || source} as keytrail.config${ext}`);
    return { source, name: `keytrail.config${ext}` };
  }
}

/**
 * Node's lookup: `<from>/node_modules/<name>`, then each parent's, up to the service directory.
 * @param {string} serviceDir @param {string} from @param {string} name
 */
function findPackageDir(serviceDir, from, name) {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (exists(join(candidate, 'package.json'))) return candidate;
    if (dir === serviceDir || dir === dirname(dir) || relative(serviceDir, dir).startsWith('..')) return null;
  }
}

/**
 * Does an optional (platform) package's `os`/`cpu`/`libc` admit Lambda?
 * @param {{ os?: string[], cpu?: string[], libc?: string[] }} manifest @param {string} cpu
 */
function runsOnLambda(manifest, cpu) {
  const admits = (/** @type {string[] | undefined} */ list, /** @type {string} */ value) =>
    list === undefined || (list.includes(value) && !list.includes(`!${value}`));
  return admits(manifest.os, LAMBDA_OS) && admits(manifest.cpu, cpu) && admits(manifest.libc, LAMBDA_LIBC);
}

/**
 * Every file under `root`, following the symlinks to shipped packages, without files nothing loads.
 * @param {string} root
 * @returns {string[]}
 */
function listFiles(root) {
  /** @type {string[]} */
  const out = [];
  const visit = (/** @type {string} */ dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) {
        if (name === '.bin') continue;
        visit(path);
      } else if (!SKIPPED_FILE.test(name)) {
        out.push(path);
      }
    }
  };
  visit(root);
  return out.sort();
}

/** @param {string} path */
function exists(path) {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Mebibytes, the unit of Lambda's "250 MB" limit (262,144,000 bytes). @param {number} bytes */
function mb(bytes) {
  return (bytes / 1_048_576).toFixed(1);
}
