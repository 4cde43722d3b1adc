-- AlterTable
ALTER TABLE "credentials" ADD COLUMN     "change_note" TEXT,
ADD COLUMN     "revision" INTEGER NOT NULL DEFAULT 1;
