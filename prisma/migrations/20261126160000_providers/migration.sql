-- CreateIndex
CREATE UNIQUE INDEX "credentials_organization_id_id_key" ON "credentials"("organization_id", "id");

-- CreateTable
CREATE TABLE "providers" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "model_provider" TEXT NOT NULL,
    "credential_id" UUID,
    "oauth_passthrough" BOOLEAN NOT NULL DEFAULT false,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,

    CONSTRAINT "providers_pkey" PRIMARY KEY ("id"),
    -- Exactly one of: a credential, or OAuth passthrough.
    CONSTRAINT "providers_credential_xor_oauth_passthrough" CHECK (("credential_id" IS NULL) = "oauth_passthrough")
);

-- CreateIndex
CREATE UNIQUE INDEX "providers_organization_id_name_key" ON "providers"("organization_id", "name");

-- CreateIndex
CREATE INDEX "providers_organization_id_created_at_id_idx" ON "providers"("organization_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "providers_organization_id_credential_id_idx" ON "providers"("organization_id", "credential_id");

-- AddForeignKey
ALTER TABLE "providers" ADD CONSTRAINT "providers_organization_id_credential_id_fkey" FOREIGN KEY ("organization_id", "credential_id") REFERENCES "credentials"("organization_id", "id") ON DELETE RESTRICT ON UPDATE RESTRICT;
