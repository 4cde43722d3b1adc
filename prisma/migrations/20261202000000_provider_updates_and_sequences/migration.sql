-- Providers can be changed in place (updateProvider, PUT /admin/providers/{id}). Like credentials,
-- each carries a revision that moves on every write: the compare-and-set that keeps two concurrent
-- updates from losing one another, and the REST ETag. Existing rows start at revision 1, last
-- changed when and by whom they were created. updated_by stays nullable so that a writer that
-- does not know the column can still insert (the service then reads the creator as the last writer).

-- AlterTable
ALTER TABLE "providers" ADD COLUMN     "revision" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "updated_by" TEXT;

UPDATE "providers" SET "updated_at" = "created_at", "updated_by" = "created_by";

-- Lists and their cursors follow a sequence, not (created_at, id): timestamps have millisecond
-- precision, so a row inserted in a cursor's millisecond with a smaller id than the cursor's fell
-- behind it and was never listed. Existing rows are numbered in the order they were listed so far.
-- ADD COLUMN numbers them 1..n in storage order and the UPDATE reorders that same set of numbers,
-- so the sequence already stands at n; the unique indexes come after the renumbering.

-- AlterTable
ALTER TABLE "credentials" ADD COLUMN     "seq" BIGSERIAL NOT NULL;

-- AlterTable
ALTER TABLE "providers" ADD COLUMN     "seq" BIGSERIAL NOT NULL;

UPDATE "credentials" AS c
   SET "seq" = ordered."position"
  FROM (SELECT "id", row_number() OVER (ORDER BY "created_at", "id") AS "position" FROM "credentials") AS ordered
 WHERE c."id" = ordered."id";

UPDATE "providers" AS p
   SET "seq" = ordered."position"
  FROM (SELECT "id", row_number() OVER (ORDER BY "created_at", "id") AS "position" FROM "providers") AS ordered
 WHERE p."id" = ordered."id";

-- DropIndex
DROP INDEX "credentials_organization_id_created_at_id_idx";

-- DropIndex
DROP INDEX "credentials_organization_id_model_provider_created_at_id_idx";

-- DropIndex
DROP INDEX "providers_organization_id_created_at_id_idx";

-- CreateIndex
CREATE UNIQUE INDEX "credentials_organization_id_seq_key" ON "credentials"("organization_id", "seq");

-- CreateIndex
CREATE INDEX "credentials_organization_id_model_provider_seq_idx" ON "credentials"("organization_id", "model_provider", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "providers_organization_id_seq_key" ON "providers"("organization_id", "seq");

-- A sequence hands out numbers in the order inserts ask, but transactions may commit in another
-- order: a reader could see seq 11 committed, page past it, and only then see seq 10 commit behind
-- its cursor. Inserts into one organization's rows therefore take turns: each takes a lock of that
-- organization and table until it commits, and only then draws its number (the column default,
-- drawn before any trigger runs, is replaced). Within an organization, seq order is commit order,
-- so a cursor never has a row appear behind it. Other organizations' inserts do not wait.
CREATE FUNCTION "vault_assign_seq"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(TG_TABLE_NAME || ':' || NEW."organization_id"::text, 0));
  NEW."seq" := nextval(pg_get_serial_sequence(quote_ident(TG_TABLE_SCHEMA) || '.' || quote_ident(TG_TABLE_NAME), 'seq'));
  RETURN NEW;
END;
$$;

CREATE TRIGGER "credentials_assign_seq"
  BEFORE INSERT ON "credentials"
  FOR EACH ROW EXECUTE FUNCTION "vault_assign_seq"();

CREATE TRIGGER "providers_assign_seq"
  BEFORE INSERT ON "providers"
  FOR EACH ROW EXECUTE FUNCTION "vault_assign_seq"();
