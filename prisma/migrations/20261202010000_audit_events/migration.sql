-- The audit trail: one row per change (and per validation run, re-wrap, key rotation, and per
-- credential per minute of runtime resolves), written in the same transaction as the change.
-- Rows chain per organization: each carries the hash of the previous row of its organization, and
-- audit_chain_heads holds the newest, so `npm run audit:verify` finds an edited, removed or
-- inserted row. A trigger refuses every UPDATE, and every DELETE except the retention prune, which
-- announces itself with SET LOCAL vault.audit_prune = 'on' and removes only the oldest rows.

-- CreateTable
CREATE TABLE "audit_events" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "position" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "changed_fields" TEXT[],
    "details" JSONB NOT NULL DEFAULT '{}',
    "secret_version" INTEGER,
    "change_note" TEXT,
    "request_id" TEXT,
    "client_ip" TEXT,
    "user_agent" TEXT,
    "previous_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_chain_heads" (
    "organization_id" UUID NOT NULL,
    "position" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_chain_heads_pkey" PRIMARY KEY ("organization_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_organization_id_position_key" ON "audit_events"("organization_id", "position");

-- CreateIndex
CREATE INDEX "audit_events_organization_id_target_id_position_idx" ON "audit_events"("organization_id", "target_id", "position");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

CREATE FUNCTION "audit_events_append_only"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('vault.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_events_append_only"
  BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();

CREATE TRIGGER "audit_events_no_truncate"
  BEFORE TRUNCATE ON "audit_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();
