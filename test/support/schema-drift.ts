// Compares what schema.prisma says (Prisma's DMMF) with what the migrations actually built in a
// PostgreSQL schema: tables, columns (type, nullability, default), indexes (columns in order,
// uniqueness, primary key, name), foreign keys and enums, in both directions. Returns one line per
// difference, so a failing test prints the drift itself. CHECK constraints are not compared:
// Prisma cannot express them, and migrations add them on purpose.
import type { Datamodel, DmmfField, DmmfModel } from './prisma-dmmf';

export type Query = <Row = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<Row[]>;

export interface ColumnSnapshot {
  name: string;
  /** `format_type()`: `integer`, `timestamp(3) with time zone`, `text[]`, ... */
  type: string;
  /** The type's own name (`auth_type` for an enum), and its kind: `e` for enums. */
  typeName: string;
  typeKind: string;
  elementTypeName: string | null;
  nullable: boolean;
  default: string | null;
}

export interface IndexSnapshot {
  name: string;
  columns: string[];
  descending: boolean[];
  unique: boolean;
  primary: boolean;
  /** Partial or expression indexes cannot come from schema.prisma. */
  partial: boolean;
  expressions: boolean;
  method: string;
}

export interface ForeignKeySnapshot {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableSnapshot {
  columns: ColumnSnapshot[];
  indexes: IndexSnapshot[];
  foreignKeys: ForeignKeySnapshot[];
}

export interface DatabaseSnapshot {
  schema: string;
  tables: Map<string, TableSnapshot>;
  enums: Map<string, string[]>;
}

/** Tables that belong to the migration machinery, not to the data model. */
export const BOOKKEEPING_TABLES = ['_prisma_migrations'];

export async function snapshotDatabase(query: Query, schema = 'public'): Promise<DatabaseSnapshot> {
  const tables = new Map<string, TableSnapshot>();
  const tableRows = await query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  for (const { name } of tableRows) tables.set(name, { columns: [], indexes: [], foreignKeys: [] });

  const columns = await query<{
    table_name: string;
    name: string;
    type: string;
    type_name: string;
    type_kind: string;
    element_type_name: string | null;
    not_null: boolean;
    default: string | null;
  }>(
    `SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            t.typname AS type_name, t.typtype AS type_kind, et.typname AS element_type_name,
            a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY c.relname, a.attnum`,
    [schema],
  );
  for (const row of columns) {
    tables.get(row.table_name)?.columns.push({
      name: row.name,
      type: row.type,
      typeName: row.type_name,
      typeKind: row.type_kind,
      elementTypeName: row.element_type_name,
      nullable: !row.not_null,
      default: row.default,
    });
  }

  const indexes = await query<IndexSnapshot & { table_name: string }>(
    `SELECT t.relname AS table_name, i.relname AS name,
            array(SELECT a.attname::text
                    FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, position)
                    JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                   WHERE k.position <= x.indnkeyatts
                   ORDER BY k.position) AS columns,
            array(SELECT (k.option & 1) = 1
                    FROM unnest(x.indoption::int2[]) WITH ORDINALITY k(option, position)
                   ORDER BY k.position) AS descending,
            x.indisunique AS unique, x.indisprimary AS primary,
            x.indpred IS NOT NULL AS partial, x.indexprs IS NOT NULL AS expressions, am.amname AS method
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_am am ON am.oid = i.relam
      WHERE n.nspname = $1
      ORDER BY t.relname, i.relname`,
    [schema],
  );
  for (const { table_name: table, ...index } of indexes) tables.get(table)?.indexes.push(index);

  const foreignKeys = await query<{
    table_name: string;
    name: string;
    columns: string[];
    referenced_table: string;
    referenced_columns: string[];
    on_delete: string;
    on_update: string;
  }>(
    `SELECT t.relname AS table_name, con.conname AS name,
            array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, position)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.position) AS columns,
            r.relname AS referenced_table,
            array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, position)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.position) AS referenced_columns,
            con.confdeltype AS on_delete, con.confupdtype AS on_update
       FROM pg_constraint con
       JOIN pg_class t ON t.oid = con.conrelid
       JOIN pg_class r ON r.oid = con.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE con.contype = 'f' AND n.nspname = $1
      ORDER BY t.relname, con.conname`,
    [schema],
  );
  const ACTIONS: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };
  for (const row of foreignKeys) {
    tables.get(row.table_name)?.foreignKeys.push({
      name: row.name,
      columns: row.columns,
      referencedTable: row.referenced_table,
      referencedColumns: row.referenced_columns,
      onDelete: ACTIONS[row.on_delete] ?? row.on_delete,
      onUpdate: ACTIONS[row.on_update] ?? row.on_update,
    });
  }

  const enumRows = await query<{ name: string; labels: string[] }>(
    `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 GROUP BY t.typname ORDER BY t.typname`,
    [schema],
  );
  const enums = new Map(enumRows.map((row) => [row.name, row.labels]));
  return { schema, tables, enums };
}

// ---------------------------------------------------------------------------------------------
// What schema.prisma implies, in PostgreSQL terms (Prisma's own mapping for the postgresql provider).

const SCALAR_DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function withArguments(name: string, args: string[], suffix = ''): string {
  return `${name}${args.length > 0 ? `(${args.join(',')})` : ''}${suffix}`;
}

function nativeTypeName(native: [string, string[]]): string {
  const [name, args] = native;
  switch (name) {
    case 'Text':
      return 'text';
    case 'Uuid':
      return 'uuid';
    case 'Xml':
      return 'xml';
    case 'Inet':
      return 'inet';
    case 'Citext':
      return 'citext';
    case 'VarChar':
      return withArguments('character varying', args);
    case 'Char':
      return withArguments('character', args);
    case 'Bit':
      return withArguments('bit', args);
    case 'VarBit':
      return withArguments('bit varying', args);
    case 'Integer':
      return 'integer';
    case 'SmallInt':
      return 'smallint';
    case 'Oid':
      return 'oid';
    case 'BigInt':
      return 'bigint';
    case 'DoublePrecision':
      return 'double precision';
    case 'Real':
      return 'real';
    case 'Decimal':
      return withArguments('numeric', args);
    case 'Money':
      return 'money';
    case 'Boolean':
      return 'boolean';
    case 'Date':
      return 'date';
    case 'Timestamp':
      return withArguments('timestamp', args, ' without time zone');
    case 'Timestamptz':
      return withArguments('timestamp', args, ' with time zone');
    case 'Time':
      return withArguments('time', args, ' without time zone');
    case 'Timetz':
      return withArguments('time', args, ' with time zone');
    case 'Json':
      return 'json';
    case 'JsonB':
      return 'jsonb';
    case 'ByteA':
      return 'bytea';
    default:
      // Loud on purpose: a new native type must be taught to this check, not silently accepted.
      throw new Error(`schema drift check: native type @db.${name} is not mapped yet`);
  }
}

type ExpectedType = { enum: string } | { formatted: string };

function expectedType(field: DmmfField, enumDbNames: Map<string, string>): ExpectedType {
  if (field.kind === 'enum') return { enum: enumDbNames.get(field.type) ?? field.type };
  const base = field.nativeType ? nativeTypeName(field.nativeType) : SCALAR_DEFAULT_TYPES[field.type];
  if (!base) throw new Error(`schema drift check: scalar type ${field.type} is not mapped yet`);
  return { formatted: field.isList ? `${base}[]` : base };
}

function describeType(type: ExpectedType): string {
  return 'enum' in type ? `enum ${type.enum}` : type.formatted;
}

function actualType(column: ColumnSnapshot): string {
  return column.typeKind === 'e' ? `enum ${column.typeName}` : column.type;
}

function typeMatches(expected: ExpectedType, column: ColumnSnapshot, isList: boolean): boolean {
  if ('enum' in expected) {
    return isList
      ? column.elementTypeName === expected.enum && column.type.endsWith('[]')
      : column.typeKind === 'e' && column.typeName === expected.enum;
  }
  return column.type === expected.formatted;
}

/** A default as PostgreSQL prints it: `'{}'::jsonb` becomes the literal `{}`, `1` stays `1`. */
function literalOf(expression: string): string {
  const quoted = /^'((?:[^']|'')*)'::[\s\S]+$/.exec(expression);
  return quoted ? quoted[1].replace(/''/g, "'") : expression;
}

/** Whether the column's default is what the field's @default implies; null when it is. */
function defaultProblem(field: DmmfField, column: ColumnSnapshot, enumValueDbNames: Map<string, Map<string, string>>): string | null {
  const actual = column.default;
  if (!field.hasDefaultValue) {
    return actual === null ? null : `has a database default (${actual}) that schema.prisma does not declare`;
  }
  const value = field.default;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'name' in value) {
    const fn = (value as { name: string; args: unknown[] }).name;
    switch (fn) {
      case 'now':
        return actual === 'CURRENT_TIMESTAMP' ? null : `default should be CURRENT_TIMESTAMP (@default(now())), is ${actual ?? 'absent'}`;
      case 'autoincrement':
        return actual !== null && /^nextval\('[^']+'::regclass\)$/.test(actual)
          ? null
          : `default should be a sequence (@default(autoincrement())), is ${actual ?? 'absent'}`;
      case 'uuid':
      case 'cuid':
      case 'nanoid':
      case 'ulid':
        // Generated by the client: the column itself has no default.
        return actual === null ? null : `has a database default (${actual}) although @default(${fn}()) is generated by the client`;
      case 'dbgenerated':
        return actual !== null ? null : 'default is missing (@default(dbgenerated(...)))';
      default:
        return actual !== null ? null : `default is missing (@default(${fn}()))`;
    }
  }
  if (actual === null) return `default is missing (@default(${JSON.stringify(value)}))`;
  if (field.isList || field.type === 'Bytes') return null;
  const literal = literalOf(actual);
  let matches: boolean;
  if (field.kind === 'enum') {
    const dbValue = enumValueDbNames.get(field.type)?.get(String(value)) ?? String(value);
    matches = literal === dbValue;
  } else if (field.type === 'Json') {
    try {
      matches = JSON.stringify(JSON.parse(literal)) === JSON.stringify(JSON.parse(String(value)));
    } catch {
      matches = false;
    }
  } else if (['Int', 'BigInt', 'Float', 'Decimal'].includes(field.type)) {
    matches = Number(literal) === Number(value);
  } else {
    matches = literal === String(value);
  }
  return matches ? null : `default should be ${JSON.stringify(value)}, is ${actual}`;
}

const MAX_IDENTIFIER = 63;

/** Prisma's default constraint names: `{table}_{columns}_{suffix}`, cut to PostgreSQL's 63 bytes. */
function defaultConstraintName(table: string, columns: string[], suffix: 'pkey' | 'key' | 'idx' | 'fkey'): string {
  const base = suffix === 'pkey' ? table : [table, ...columns].join('_');
  return `${base.slice(0, MAX_IDENTIFIER - suffix.length - 1)}_${suffix}`;
}

function columnName(field: DmmfField): string {
  return field.dbName ?? field.name;
}

function tableName(model: DmmfModel): string {
  return model.dbName ?? model.name;
}

interface ExpectedIndex {
  name: string;
  columns: string[];
  descending: boolean[];
  unique: boolean;
  primary: boolean;
  source: string;
}

function expectedIndexes(datamodel: Datamodel, model: DmmfModel): ExpectedIndex[] {
  const table = tableName(model);
  const fieldByName = new Map(model.fields.map((field) => [field.name, field]));
  const toColumn = (name: string) => {
    const field = fieldByName.get(name);
    if (!field) throw new Error(`schema drift check: index on unknown field ${model.name}.${name}`);
    return columnName(field);
  };
  return datamodel.indexes
    .filter((index) => index.model === model.name)
    .map((index) => {
      if (index.type === 'fulltext') throw new Error('schema drift check: fulltext indexes are not supported by PostgreSQL');
      const columns = index.fields.map((field) => toColumn(field.name));
      const suffix = index.type === 'id' ? 'pkey' : index.type === 'unique' ? 'key' : 'idx';
      const explicit = index.dbName ?? (index.type === 'id' ? model.primaryKey?.name : undefined);
      if (index.algorithm && index.algorithm.toLowerCase() !== 'btree') {
        throw new Error(`schema drift check: index type ${index.algorithm} is not compared yet`);
      }
      return {
        name: explicit ?? defaultConstraintName(table, columns, suffix),
        columns,
        descending: index.fields.map((field) => field.sortOrder === 'desc'),
        unique: index.type !== 'normal',
        primary: index.type === 'id',
        source: `${index.type === 'id' ? '@id' : index.type === 'unique' ? '@unique' : '@@index'}(${index.fields.map((field) => field.name).join(', ')})`,
      };
    });
}

interface ExpectedForeignKey {
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
  source: string;
}

function expectedForeignKeys(datamodel: Datamodel, model: DmmfModel): ExpectedForeignKey[] {
  const models = new Map(datamodel.models.map((entry) => [entry.name, entry]));
  const result: ExpectedForeignKey[] = [];
  for (const field of model.fields) {
    const relation = field as DmmfField & {
      relationFromFields?: string[];
      relationToFields?: string[];
      relationOnDelete?: string;
      relationOnUpdate?: string;
    };
    if (field.kind !== 'object' || !relation.relationFromFields || relation.relationFromFields.length === 0) continue;
    const target = models.get(field.type);
    if (!target) throw new Error(`schema drift check: relation ${model.name}.${field.name} to unknown model ${field.type}`);
    const ownFields = new Map(model.fields.map((entry) => [entry.name, entry]));
    const targetFields = new Map(target.fields.map((entry) => [entry.name, entry]));
    const from = relation.relationFromFields.map((name) => ownFields.get(name)!);
    // Prisma's defaults: Restrict when every scalar of the relation is required, else SetNull; Cascade on update.
    const required = from.every((entry) => entry.isRequired);
    result.push({
      columns: from.map(columnName),
      referencedTable: tableName(target),
      referencedColumns: (relation.relationToFields ?? []).map((name) => columnName(targetFields.get(name)!)),
      onDelete: relation.relationOnDelete ?? (required ? 'Restrict' : 'SetNull'),
      onUpdate: relation.relationOnUpdate ?? 'Cascade',
      source: `${model.name}.${field.name}`,
    });
  }
  return result;
}

const sameList = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((value, index) => value === b[index]);

/** Every difference between schema.prisma and the database schema; empty when they agree. */
export function findDrift(datamodel: Datamodel, snapshot: DatabaseSnapshot, ignoredTables: string[] = BOOKKEEPING_TABLES): string[] {
  const drift: string[] = [];
  const enumDbNames = new Map(datamodel.enums.map((entry) => [entry.name, entry.dbName ?? entry.name]));
  const enumValueDbNames = new Map(
    datamodel.enums.map((entry) => [entry.name, new Map(entry.values.map((value) => [value.name, value.dbName ?? value.name]))]),
  );

  const modelTables = new Set<string>();
  for (const model of datamodel.models) {
    if (model.schema && model.schema !== snapshot.schema) {
      throw new Error(`schema drift check: model ${model.name} lives in schema ${model.schema}; multiSchema is not compared yet`);
    }
    const table = tableName(model);
    modelTables.add(table);
    const actual = snapshot.tables.get(table);
    if (!actual) {
      drift.push(`table ${table} (model ${model.name}) is missing from the database`);
      continue;
    }

    const columns = new Map(actual.columns.map((column) => [column.name, column]));
    const expectedColumns = new Set<string>();
    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      const name = columnName(field);
      expectedColumns.add(name);
      const column = columns.get(name);
      const where = `column ${table}.${name} (${model.name}.${field.name})`;
      if (!column) {
        drift.push(`${where} is missing from the database`);
        continue;
      }
      if (field.kind === 'unsupported') continue;
      const type = expectedType(field, enumDbNames);
      if (!typeMatches(type, column, field.isList)) {
        drift.push(`${where} has type ${actualType(column)}, schema.prisma says ${describeType(type)}`);
      }
      // Prisma creates scalar lists without NOT NULL.
      const expectedNullable = field.isList || !field.isRequired;
      if (column.nullable !== expectedNullable) {
        drift.push(
          `${where} is ${column.nullable ? 'nullable' : 'NOT NULL'}, schema.prisma says ${expectedNullable ? 'optional' : 'required'}`,
        );
      }
      const problem = defaultProblem(field, column, enumValueDbNames);
      if (problem) drift.push(`${where} ${problem}`);
    }
    for (const column of actual.columns) {
      if (!expectedColumns.has(column.name))
        drift.push(`column ${table}.${column.name} exists in the database but not in model ${model.name}`);
    }

    const indexes = new Map(actual.indexes.map((index) => [index.name, index]));
    const expected = expectedIndexes(datamodel, model);
    for (const index of expected) {
      const found = indexes.get(index.name);
      const where = `index ${index.name} for ${model.name} ${index.source}`;
      if (!found) {
        drift.push(`${where} is missing from the database`);
        continue;
      }
      if (!sameList(found.columns, index.columns) || found.expressions) {
        drift.push(
          `${where} covers (${found.columns.join(', ')}${found.expressions ? ', <expression>' : ''}), schema.prisma says (${index.columns.join(', ')})`,
        );
      }
      if (found.unique !== index.unique) drift.push(`${where} is ${found.unique ? 'unique' : 'not unique'} in the database`);
      if (found.primary !== index.primary) drift.push(`${where} is ${found.primary ? '' : 'not '}the primary key in the database`);
      if (found.partial) drift.push(`${where} is partial in the database`);
      if (found.method !== 'btree') drift.push(`${where} uses ${found.method}, schema.prisma implies btree`);
      if (!sameList(found.descending, index.descending)) drift.push(`${where} has different sort orders in the database`);
    }
    const expectedNames = new Set(expected.map((index) => index.name));
    for (const index of actual.indexes) {
      if (!expectedNames.has(index.name)) {
        drift.push(
          `index ${index.name} on ${table}(${index.columns.join(', ')})${index.unique ? ' (unique)' : ''} exists in the database but not in model ${model.name}`,
        );
      }
    }

    const foreignKeys = [...actual.foreignKeys];
    for (const key of expectedForeignKeys(datamodel, model)) {
      const at = foreignKeys.findIndex(
        (found) =>
          sameList(found.columns, key.columns) &&
          found.referencedTable === key.referencedTable &&
          sameList(found.referencedColumns, key.referencedColumns),
      );
      const where = `foreign key of ${key.source} (${key.columns.join(', ')}) → ${key.referencedTable}(${key.referencedColumns.join(', ')})`;
      if (at < 0) {
        drift.push(`${where} is missing from the database`);
        continue;
      }
      const [found] = foreignKeys.splice(at, 1);
      if (found.onDelete !== key.onDelete)
        drift.push(`${where} is ON DELETE ${found.onDelete} in the database, schema.prisma says ${key.onDelete}`);
      if (found.onUpdate !== key.onUpdate)
        drift.push(`${where} is ON UPDATE ${found.onUpdate} in the database, schema.prisma says ${key.onUpdate}`);
    }
    for (const found of foreignKeys) {
      drift.push(`foreign key ${found.name} on ${table}(${found.columns.join(', ')}) exists in the database but not in schema.prisma`);
    }
  }

  for (const table of snapshot.tables.keys()) {
    if (!modelTables.has(table) && !ignoredTables.includes(table))
      drift.push(`table ${table} exists in the database but not in schema.prisma`);
  }

  const modelEnums = new Set<string>();
  for (const entry of datamodel.enums) {
    const name = entry.dbName ?? entry.name;
    modelEnums.add(name);
    const labels = snapshot.enums.get(name);
    const expectedLabels = entry.values.map((value) => value.dbName ?? value.name);
    if (!labels) drift.push(`enum ${name} (${entry.name}) is missing from the database`);
    else if (!sameList(labels, expectedLabels)) {
      drift.push(`enum ${name} has labels (${labels.join(', ')}), schema.prisma says (${expectedLabels.join(', ')})`);
    }
  }
  for (const name of snapshot.enums.keys()) {
    if (!modelEnums.has(name)) drift.push(`enum ${name} exists in the database but not in schema.prisma`);
  }
  return drift;
}
