// GraphQL Code Generator: typed documents for every graphql(`...`) in portal/src, checked against
// the schema the service serves (schema.graphql). An operation the schema no longer answers fails
// here, and a changed type fails `tsc -p portal/tsconfig.json` (both run by `npm run typecheck`).
// Paths are relative to the project root, where npm runs scripts.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['portal/src/**/*.{ts,tsx}', '!portal/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'portal/src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' },
      },
    },
  },
};

export default config;
