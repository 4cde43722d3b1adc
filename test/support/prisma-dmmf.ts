// Prisma's own reading of schema.prisma (the DMMF), from the schema wasm the pinned `prisma`
// package ships. The generated client's runtime data model omits nullability, native types,
// defaults, indexes and enum values, so the drift check asks the same parser `prisma generate`
// uses. This is a minimal wasm-bindgen loader for the one function needed, get_dmmf.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface DmmfField {
  name: string;
  dbName: string | null;
  kind: 'scalar' | 'enum' | 'object' | 'unsupported';
  type: string;
  isRequired: boolean;
  isList: boolean;
  isId: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  isUpdatedAt?: boolean;
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
  uniqueIndexes: { name: string | null; fields: string[] }[];
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  isDefinedOnField: boolean;
  dbName?: string | null;
  name?: string | null;
  fields: { name: string; sortOrder?: 'asc' | 'desc' }[];
  algorithm?: string;
}

export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
  indexes: DmmfIndex[];
}

// lib "ES2022" has no WebAssembly declarations (they come with lib "DOM"); the few used are typed here.
interface WasmTable {
  grow(delta: number): number;
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): object; imports(module: object): { module: string; name: string; kind: string }[] };
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WasmRuntime = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type WasmExports = {
  memory: { buffer: ArrayBuffer };
  __wbindgen_externrefs: WasmTable;
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(pointer: number, size: number, align: number): void;
  __externref_table_dealloc(index: number): void;
  __wbindgen_start(): void;
  get_dmmf(pointer: number, length: number): [number, number, number, number];
};

function loadSchemaWasm(): WasmExports {
  const file = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'prisma_schema_build_bg.wasm');
  const module = new WasmRuntime.Module(readFileSync(file));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // The imports below read `exports`, which exists once the module is instantiated; none of them
  // is called before that.
  const text = (pointer: number, length: number) =>
    decoder.decode(new Uint8Array(exports.memory.buffer).subarray(pointer >>> 0, (pointer >>> 0) + length));
  // Import names carry a build hash (`__wbg_Error_e839...`), so they are matched by prefix.
  const byPrefix: [string, (...args: number[]) => unknown][] = [
    ['__wbg_set_message_', () => undefined],
    ['__wbg_Error_', (pointer, length) => new Error(text(pointer, length))],
    [
      '__wbg___wbindgen_throw_',
      (pointer, length) => {
        throw new Error(text(pointer, length));
      },
    ],
    [
      '__wbindgen_init_externref_table',
      () => {
        const table = exports.__wbindgen_externrefs;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset + 0, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      },
    ],
  ];
  const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  for (const wanted of WasmRuntime.Module.imports(module)) {
    const implementation = byPrefix.find(([prefix]) => wanted.name.startsWith(prefix))?.[1];
    if (!implementation) throw new Error(`prisma schema wasm wants an unknown import ${wanted.module}.${wanted.name}`);
    (imports[wanted.module] ??= {})[wanted.name] = implementation;
  }
  const exports = new WasmRuntime.Instance(module, imports).exports as unknown as WasmExports;
  exports.__wbindgen_start();
  return exports;
}

let wasm: WasmExports | undefined;

/** The DMMF datamodel of a Prisma schema, as `prisma generate` sees it. */
export function readDatamodel(prismaSchema: string): Datamodel {
  wasm ??= loadSchemaWasm();
  const input = Buffer.from(JSON.stringify({ prismaSchema, noColor: true }), 'utf8');
  const pointer = wasm.__wbindgen_malloc(input.length, 1) >>> 0;
  new Uint8Array(wasm.memory.buffer).set(input, pointer);
  const [resultPointer, resultLength, errorIndex, failed] = wasm.get_dmmf(pointer, input.length);
  if (failed) {
    const error = wasm.__wbindgen_externrefs.get(errorIndex) as Error;
    wasm.__externref_table_dealloc(errorIndex);
    throw error;
  }
  try {
    const json = Buffer.from(new Uint8Array(wasm.memory.buffer).subarray(resultPointer, resultPointer + resultLength)).toString('utf8');
    return (JSON.parse(json) as { datamodel: Datamodel }).datamodel;
  } finally {
    wasm.__wbindgen_free(resultPointer, resultLength, 1);
  }
}
