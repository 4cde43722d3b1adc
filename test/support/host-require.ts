// Loads a package with Node's own require instead of Jest's module registry, for the packages the
// registry cannot load: jose (ESM-only; Node 20 can require() it, the registry cannot before Node
// 24.9) and PGlite (its CommonJS build loads its WebAssembly with a dynamic import(), which the
// sandbox refuses without --experimental-vm-modules). The genuine package, outside the sandbox:
// nothing is faked. From a test file, before anything imports the package:
//
//   import type * as HostRequire from '../support/host-require';
//   jest.mock('jose', () => jest.requireActual<typeof HostRequire>('../support/host-require').hostRequire('jose'));
import type NodeModule from 'node:module';

export function hostRequire(id: string): unknown {
  // The registry's `module` export is a subclass of the host's Module; its prototype is the host's.
  const sandboxModule = jest.requireActual<typeof NodeModule>('node:module');
  const hostModule = Object.getPrototypeOf(sandboxModule) as typeof NodeModule;
  return hostModule.createRequire(__filename)(id);
}
