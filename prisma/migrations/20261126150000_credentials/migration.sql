-- CreateEnum
CREATE TYPE "auth_type" AS ENUM ('API_KEY', 'AWS_ROLE', 'AWS_KEYS', 'BEDROCK_API_KEY', 'GOOGLE_ADC', 'GOOGLE_SERVICE_ACCOUNT', 'GOOGLE_IMPERSONATION', 'OAUTH_PASSTHROUGH');

-- CreateTable
CREATE TABLE "credentials" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "model_provider" TEXT NOT NULL,
    "auth_type" "auth_type" NOT NULL,
    "base_url" TEXT NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "auth_parameters" JSONB NOT NULL DEFAULT '{}',
    "key_last4" TEXT,
    "stores_key_material" BOOLEAN NOT NULL,
    "secret_version" INTEGER NOT NULL DEFAULT 1,
    "secret_rotated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "updated_by" TEXT NOT NULL,
    "secret_algorithm" TEXT,
    "secret_ciphertext" BYTEA,
    "secret_nonce" BYTEA,
    "secret_wrapped_key" BYTEA,
    "secret_key_id" TEXT,

    CONSTRAINT "credentials_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "credentials_organization_id_name_key" ON "credentials"("organization_id", "name");

-- CreateIndex
CREATE INDEX "credentials_organization_id_created_at_id_idx" ON "credentials"("organization_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "credentials_organization_id_model_provider_created_at_id_idx" ON "credentials"("organization_id", "model_provider", "created_at", "id");
