// Fresh organizations and the callers in them, each in one line: `anAdmin(vault)` for an admin of
// a brand-new organization, `anOrganization(vault)` when a test needs its admin and its viewer.
// Organizations are random UUIDs no other test uses, so tests never see each other's rows.
import { randomUUID } from 'node:crypto';
import { type ProviderClient, providerClientWithToken } from './provider-client';
import type { TestApp } from './test-app';
import { clientFor, type VaultClient } from './vault-client';

/** One caller of one organization: its credential operations (`token` is its bearer token) and its provider operations. */
export interface Member extends VaultClient {
  orgId: string;
  providers: ProviderClient;
}

export interface Organization {
  id: string;
  admin: Member;
  viewer: Member;
  /** A caller with other roles, such as one the vault does not know. */
  member(roles: string[]): Member;
}

/** An organization (a fresh one unless `id` is given) with an admin and a viewer of `vault`. */
export function anOrganization(vault: TestApp, id: string = randomUUID()): Organization {
  const member = (roles: string[]): Member => {
    const client = clientFor(vault, id, roles);
    return { ...client, orgId: id, providers: providerClientWithToken(vault, client.token) };
  };
  return { id, admin: member(['admin']), viewer: member(['viewer']), member };
}

/** An admin of a brand-new organization. */
export function anAdmin(vault: TestApp): Member {
  return anOrganization(vault).admin;
}

/** A viewer of a brand-new organization. */
export function aViewer(vault: TestApp): Member {
  return anOrganization(vault).viewer;
}
