import type { DataSource } from 'typeorm';

interface DatabaseColumn {
  table_name: string;
  column_name: string;
  is_nullable: 'YES' | 'NO';
  data_type: string;
  udt_name: string;
  character_maximum_length: number | null;
}

/** Postgres' `information_schema` name for a TypeORM column type, as far as we use them. */
function expectedDataType(normalized: string): string {
  if (normalized === 'enum' || normalized === 'simple-enum') return 'USER-DEFINED';
  if (normalized === 'timestamptz') return 'timestamp with time zone';
  if (normalized === 'varchar') return 'character varying';
  if (normalized === 'int' || normalized === 'int4') return 'integer';
  if (normalized === 'int8') return 'bigint';
  if (normalized === 'bool') return 'boolean';
  return normalized;
}

/**
 * Where a data source's entities disagree with the tables its migrations built: a column the
 * entity maps that the table lacks, another type, another nullability or length. The schema is
 * written by hand in migrations and the entities separately, so this is what keeps them
 * honest (TypeORM's own schema diff cannot: it would also drop every CHECK, partial index and
 * trigger that entities do not declare). Empty when they agree.
 */
export async function entityColumnMismatches(dataSource: DataSource): Promise<string[]> {
  const columns = (await dataSource.query(
    `SELECT table_name, column_name, is_nullable, data_type, udt_name, character_maximum_length
       FROM information_schema.columns WHERE table_schema = current_schema()`,
  )) as DatabaseColumn[];
  const byName = new Map(
    columns.map((column) => [`${column.table_name}.${column.column_name}`, column]),
  );
  const mismatches: string[] = [];
  for (const entity of dataSource.entityMetadatas) {
    for (const column of entity.columns) {
      const name = `${entity.tableName}.${column.databaseName}`;
      const actual = byName.get(name);
      if (!actual) {
        mismatches.push(`${name}: mapped by ${entity.name} but not in the table`);
        continue;
      }
      const expected = expectedDataType(dataSource.driver.normalizeType(column));
      if (expected !== actual.data_type) {
        mismatches.push(
          `${name}: entity says ${expected}, table has ${actual.data_type} (${actual.udt_name})`,
        );
      }
      if (expected === 'USER-DEFINED' && column.enumName && column.enumName !== actual.udt_name) {
        mismatches.push(
          `${name}: entity names enum ${column.enumName}, table uses ${actual.udt_name}`,
        );
      }
      if (column.isNullable !== (actual.is_nullable === 'YES')) {
        mismatches.push(
          `${name}: entity says ${column.isNullable ? 'nullable' : 'NOT NULL'}, table says ${actual.is_nullable === 'YES' ? 'nullable' : 'NOT NULL'}`,
        );
      }
      const length = column.length ? Number(column.length) : null;
      if (expected === 'character varying' && length !== actual.character_maximum_length) {
        mismatches.push(
          `${name}: entity length ${length ?? 'unbounded'}, table length ${actual.character_maximum_length ?? 'unbounded'}`,
        );
      }
    }
  }
  return mismatches;
}
