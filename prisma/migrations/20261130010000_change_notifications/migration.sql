-- Change notifications: every replica keeps the rows the runtime route reads in memory, and drops
-- one as soon as any replica changes or deletes it. The payload is "<table>:<id>"; the channel is
-- the same for every schema of the database, so a replica may hear of rows it never held (harmless).
-- A write that only records a resolve (last_used_at) changes nothing a replica holds: it is not announced.
CREATE FUNCTION "vault_announce_change"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'last_used_at') = (to_jsonb(OLD) - 'last_used_at') THEN
    RETURN NULL;
  END IF;
  PERFORM pg_notify('vault_changes', TG_TABLE_NAME || ':' || OLD.id);
  RETURN NULL;
END;
$$;

CREATE TRIGGER "credentials_announce_change"
  AFTER UPDATE OR DELETE ON "credentials"
  FOR EACH ROW EXECUTE FUNCTION "vault_announce_change"();

CREATE TRIGGER "providers_announce_change"
  AFTER UPDATE OR DELETE ON "providers"
  FOR EACH ROW EXECUTE FUNCTION "vault_announce_change"();
