-- Names are unique in an organization regardless of case: "Prod" and "prod" cannot both exist.
-- name_key is the name as compared (lower case), computed by PostgreSQL itself so that no writer
-- can let it drift from the name; the unique index moves from the name to it, keeping its name.
--
-- Rows that already collide (possible only before this migration) are kept, but every one except
-- the oldest gets its id appended to its name, "<name> (<id>)": at most 200 characters, as the
-- service allows. A renamed credential says so in its change note and moves to a new revision.

UPDATE "credentials" AS c
   SET "name" = left(c."name", 161) || ' (' || c."id"::text || ')',
       "change_note" = 'Renamed when names became unique regardless of case: another credential has this name.',
       "revision" = c."revision" + 1,
       "updated_at" = CURRENT_TIMESTAMP
 WHERE EXISTS (
   SELECT 1 FROM "credentials" AS o
    WHERE o."organization_id" = c."organization_id"
      AND lower(o."name") = lower(c."name")
      AND (o."created_at", o."id") < (c."created_at", c."id")
 );

UPDATE "providers" AS p
   SET "name" = left(p."name", 161) || ' (' || p."id"::text || ')'
 WHERE EXISTS (
   SELECT 1 FROM "providers" AS o
    WHERE o."organization_id" = p."organization_id"
      AND lower(o."name") = lower(p."name")
      AND (o."created_at", o."id") < (p."created_at", p."id")
 );

-- AlterTable
ALTER TABLE "credentials" ADD COLUMN "name_key" TEXT NOT NULL GENERATED ALWAYS AS (lower("name")) STORED;

-- AlterTable
ALTER TABLE "providers" ADD COLUMN "name_key" TEXT NOT NULL GENERATED ALWAYS AS (lower("name")) STORED;

-- DropIndex
DROP INDEX "credentials_organization_id_name_key";

-- CreateIndex
CREATE UNIQUE INDEX "credentials_organization_id_name_key" ON "credentials"("organization_id", "name_key");

-- DropIndex
DROP INDEX "providers_organization_id_name_key";

-- CreateIndex
CREATE UNIQUE INDEX "providers_organization_id_name_key" ON "providers"("organization_id", "name_key");
