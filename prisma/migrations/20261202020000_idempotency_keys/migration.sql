-- Idempotency keys: a create sent with an Idempotency-Key header claims (organization, key) with a
-- pending row before it runs (INSERT ... ON CONFLICT DO NOTHING: one winner across replicas),
-- renews heartbeat_at while it runs, and records the id it created; a failed create deletes its
-- row, so the key is free again. A request that finds a completed row answers its result; one that
-- finds a pending row waits for it. Only a SHA-256 of the request is kept, never the request
-- itself (it carries secrets). Rows older than the window (24 hours) count as absent and are
-- deleted as new keys are claimed.

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "organization_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "request_fingerprint" TEXT NOT NULL,
    "claim" UUID NOT NULL,
    "result_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("organization_id","key")
);

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");
