import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker thread on a TypeScript module. Workers do not inherit tsx's loader, so the worker
 * registers it before importing the module.
 */
export function startTsWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl.href)}); })`;
  return new Worker(code, { ...options, eval: true });
}
